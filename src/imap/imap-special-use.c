/* Special-use attributes of a user's mailboxes (imap-special-use.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "imap/imap-list-ext.h"
#include "imap/imap-private.h"
#include "imap/imap-special-use.h"
#include "lib/buf.h"
#include "lib/fsutil.h"
#include "lib/xalloc.h"
#include "store/mailbox.h"

#define SPECIAL_FILE      "tern-special-use"
#define SPECIAL_MAX_BYTES (1024 * 1024)
#define SPECIAL_MAX_LINES 10000

/* The usual folder names and their RFC 6154 attribute. */
static const struct {
	const char *name;
	unsigned mask;
} usual_names[] = {
    {"Drafts", IMAP_SPECIAL_DRAFTS},
    {"Sent", IMAP_SPECIAL_SENT},
    {"Sent Items", IMAP_SPECIAL_SENT},
    {"Sent Messages", IMAP_SPECIAL_SENT},
    {"Trash", IMAP_SPECIAL_TRASH},
    {"Deleted Items", IMAP_SPECIAL_TRASH},
    {"Deleted Messages", IMAP_SPECIAL_TRASH},
    {"Junk", IMAP_SPECIAL_JUNK},
    {"Spam", IMAP_SPECIAL_JUNK},
    {"Archive", IMAP_SPECIAL_ARCHIVE},
    {"Archives", IMAP_SPECIAL_ARCHIVE},
};

unsigned imap_special_use_default(const char *name)
{
	for (size_t i = 0; i < sizeof(usual_names) / sizeof(usual_names[0]); i++) {
		if (strcasecmp(name, usual_names[i].name) == 0)
			return usual_names[i].mask;
	}
	return 0;
}

static char *special_path(struct imap_session *s)
{
	return xasprintf("%s/" SPECIAL_FILE, mail_user_path(s->user));
}

static void map_add(struct imap_special_map *map, const char *name, unsigned mask)
{
	map->names = xrealloc(map->names, (map->count + 1) * sizeof(char *));
	map->masks = xrealloc(map->masks, (map->count + 1) * sizeof(unsigned));
	map->names[map->count] = xstrdup(name);
	map->masks[map->count++] = mask;
}

int imap_special_map_read(struct imap_session *s, struct imap_special_map *map)
{
	char *path = special_path(s), *data, *line, *save = NULL;
	size_t len;
	int ret;

	memset(map, 0, sizeof(*map));
	ret = read_file(path, SPECIAL_MAX_BYTES, &data, &len);
	free(path);
	if (ret < 0)
		return errno == ENOENT ? 0 : -1;
	for (line = strtok_r(data, "\n", &save); line != NULL && map->count < SPECIAL_MAX_LINES;
	     line = strtok_r(NULL, "\n", &save)) {
		char *end, *tab = strchr(line, '\t');
		unsigned long mask = strtoul(line, &end, 10);

		if (tab != NULL && end == tab && tab[1] != '\0')
			map_add(map, tab + 1, (unsigned)mask & IMAP_SPECIAL_STORABLE);
	}
	free(data);
	return 0;
}

void imap_special_map_free(struct imap_special_map *map)
{
	for (size_t i = 0; i < map->count; i++)
		free(map->names[i]);
	free(map->names);
	free(map->masks);
	memset(map, 0, sizeof(*map));
}

static ssize_t map_find(const struct imap_special_map *map, const char *name)
{
	for (size_t i = 0; i < map->count; i++) {
		if (strcmp(map->names[i], name) == 0)
			return (ssize_t)i;
	}
	return -1;
}

unsigned imap_special_map_get(const struct imap_special_map *map, const char *name)
{
	ssize_t i = map_find(map, name);

	return i >= 0 ? map->masks[i] : imap_special_use_default(name);
}

static int map_write(struct imap_session *s, const struct imap_special_map *map)
{
	struct buf b = BUF_INIT;
	char *path = special_path(s);
	int ret;

	for (size_t i = 0; i < map->count; i++) {
		if (map->names[i] != NULL)
			buf_printf(&b, "%u\t%s\n", map->masks[i], map->names[i]);
	}
	ret = write_file_atomic(path, b.data, b.len, 0600);
	free(path);
	buf_free(&b);
	return ret;
}

int imap_special_use_set(struct imap_session *s, const char *name, unsigned mask)
{
	struct imap_special_map map;
	ssize_t i;
	int ret;

	if (imap_special_map_read(s, &map) < 0)
		return -1;
	i = map_find(&map, name);
	if (i < 0 && mask == 0) {
		imap_special_map_free(&map);
		return 0;
	}
	if (i >= 0 && mask == 0) {
		free(map.names[i]);
		map.names[i] = NULL;
	} else if (i >= 0) {
		map.masks[i] = mask;
	} else {
		map_add(&map, name, mask);
	}
	ret = map_write(s, &map);
	imap_special_map_free(&map);
	return ret;
}

int imap_special_use_rename(struct imap_session *s, const char *from, const char *to)
{
	struct imap_special_map map;
	size_t from_len = strlen(from);
	bool changed = false;
	int ret = 0;

	if (imap_special_map_read(s, &map) < 0)
		return -1;
	for (size_t i = 0; i < map.count; i++) {
		const char *n = map.names[i];

		if (strncmp(n, from, from_len) != 0 || (n[from_len] != '\0' && n[from_len] != '/'))
			continue;
		char *renamed = xasprintf("%s%s", to, n + from_len);
		free(map.names[i]);
		map.names[i] = renamed;
		changed = true;
	}
	if (changed)
		ret = map_write(s, &map);
	imap_special_map_free(&map);
	return ret;
}
