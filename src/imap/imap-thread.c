/* THREAD=ORDEREDSUBJECT and THREAD=REFERENCES (RFC 5256 sections 2.1, 3;
   imap-thread.h). */
#include "imap/imap-thread.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "imap/imap-sort.h"
#include "lib/array.h"
#include "lib/xalloc.h"

/* A container of the REFERENCES algorithm (a message, or a dummy standing
   for a referenced Message-ID no message of the set has). */
struct node {
	int msg;       /* index in the input, -1 for a dummy */
	char *subject; /* base subject (messages) */
	bool reply;
	bool removed; /* taken off the root set (step 5C) */
	int64_t date; /* of the message, or a dummy's first child */
	size_t order; /* mailbox order, the same for a dummy */
	struct node *parent, *child, *next;
};

/* Message-ID -> node, or base subject -> node: open addressing. */
struct table {
	const char **keys;
	struct node **vals;
	size_t cap, count;
};

struct threader {
	const struct imap_thread_msg *msgs;
	ARRAY(struct node *) nodes; /* every node, to free */
	ARRAY(char *) ids;          /* the keys of the id table */
	struct table by_id;
	struct node root; /* its children are the root set */
};

static size_t hash_str(const char *s)
{
	size_t h = 14695981039346656037u;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211u;
	return h;
}

static struct node **table_slot(struct table *t, const char *key)
{
	size_t i = hash_str(key) & (t->cap - 1);

	while (t->keys[i] != NULL && strcmp(t->keys[i], key) != 0)
		i = (i + 1) & (t->cap - 1);
	if (t->keys[i] == NULL)
		t->keys[i] = key; /* the caller fills the value, or leaves NULL */
	return &t->vals[i];
}

static void table_grow(struct table *t)
{
	struct table old = *t;

	t->cap = old.cap == 0 ? 64 : old.cap * 2;
	t->keys = xcalloc(t->cap, sizeof(*t->keys));
	t->vals = xcalloc(t->cap, sizeof(*t->vals));
	t->count = 0;
	for (size_t i = 0; i < old.cap; i++) {
		if (old.keys[i] != NULL && old.vals[i] != NULL) {
			*table_slot(t, old.keys[i]) = old.vals[i];
			t->count++;
		}
	}
	free(old.keys);
	free(old.vals);
}

/* The value slot of key (a new slot holds NULL; key must outlive t). */
static struct node **table_get(struct table *t, const char *key)
{
	if ((t->count + 1) * 2 > t->cap)
		table_grow(t);
	struct node **slot = table_slot(t, key);

	if (*slot == NULL)
		t->count++;
	return slot;
}

static void table_free(struct table *t)
{
	free(t->keys);
	free(t->vals);
	memset(t, 0, sizeof(*t));
}

/* Make n the container of message msg. */
static void node_set_msg(struct threader *th, struct node *n, int msg)
{
	struct buf b = BUF_INIT;
	const char *subj = th->msgs[msg].subject;

	n->msg = msg;
	imap_sort_base_subject(subj == NULL ? "" : subj, subj == NULL ? 0 : strlen(subj), &b,
	                       &n->reply);
	n->subject = buf_steal(&b);
	n->date = th->msgs[msg].date;
	n->order = (size_t)msg;
}

/* A new node: a dummy for msg -1. */
static struct node *node_new(struct threader *th, int msg)
{
	struct node *n = xcalloc(1, sizeof(*n));

	n->msg = -1;
	array_append(&th->nodes, n);
	if (msg >= 0)
		node_set_msg(th, n, msg);
	return n;
}

static void node_unlink(struct node *n)
{
	struct node **p;

	if (n->parent == NULL)
		return;
	for (p = &n->parent->child; *p != n; p = &(*p)->next)
		;
	*p = n->next;
	n->next = NULL;
	n->parent = NULL;
}

/* Make child a child of parent (child has no parent). Prepended: O(1),
   and every order of siblings is set by sort_tree() afterwards. */
static void node_link(struct node *parent, struct node *child)
{
	child->next = parent->child;
	parent->child = child;
	child->parent = parent;
}

/* Is a an ancestor of b, or b itself? */
static bool is_ancestor(const struct node *a, const struct node *b)
{
	for (; b != NULL; b = b->parent) {
		if (a == b)
			return true;
	}
	return false;
}

/* The next "<...@...>" of a field from *p, whitespace inside removed,
   malloc'ed; NULL when there is none. */
static char *next_msgid(const char **p)
{
	while (**p != '\0') {
		const char *lt = strchr(*p, '<'), *gt;
		struct buf b = BUF_INIT;

		if (lt == NULL || (gt = strchr(lt + 1, '>')) == NULL) {
			*p += strlen(*p);
			return NULL;
		}
		*p = gt + 1;
		for (const char *c = lt; c <= gt; c++) {
			if (*c != ' ' && *c != '\t' && *c != '\r' && *c != '\n')
				buf_append_char(&b, *c);
		}
		if (memchr(b.data, '@', b.len) != NULL &&
		    memchr(b.data + 1, '<', b.len - 1) == NULL && b.len > 3)
			return buf_steal(&b);
		buf_free(&b);
	}
	return NULL;
}

/* The container of id (taken), made as a dummy if there is none. */
static struct node *id_node(struct threader *th, char *id)
{
	struct node **slot = table_get(&th->by_id, id);

	array_append(&th->ids, id);
	if (*slot == NULL)
		*slot = node_new(th, -1);
	return *slot;
}

/* Step 1 for message i. */
static void add_message(struct threader *th, int i)
{
	const struct imap_thread_msg *m = &th->msgs[i];
	const char *p = m->message_id == NULL ? "" : m->message_id;
	char *id = next_msgid(&p), *ref;
	struct node *c = NULL, *prev = NULL;

	if (id != NULL) {
		c = id_node(th, id);
		if (c->msg >= 0)
			c = NULL; /* a duplicate Message-ID: a message of its own */
	}
	if (c == NULL)
		c = node_new(th, i);
	else
		node_set_msg(th, c, i);
	/* (B) the References chain, else the first In-Reply-To id */
	p = m->references == NULL ? "" : m->references;
	if ((ref = next_msgid(&p)) == NULL) {
		p = m->in_reply_to == NULL ? "" : m->in_reply_to;
		ref = next_msgid(&p);
		p = "";
	}
	for (; ref != NULL; ref = next_msgid(&p)) {
		struct node *r = id_node(th, ref);

		if (prev != NULL && r->parent == NULL && !is_ancestor(r, prev))
			node_link(prev, r);
		prev = r;
	}
	/* (C) the last reference is the parent */
	node_unlink(c);
	if (prev != NULL && !is_ancestor(c, prev))
		node_link(prev, c);
}

static int cmp_nodes(const void *a, const void *b)
{
	const struct node *x = *(struct node *const *)a, *y = *(struct node *const *)b;

	if (x->date != y->date)
		return x->date < y->date ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order ? 1 : 0;
}

/* Sort every set of siblings under n by date (dummies by their first
   child's, after sorting it). */
static void sort_tree(struct node *n)
{
	ARRAY(struct node *) kids = ARRAY_INIT;

	for (struct node *c = n->child; c != NULL; c = c->next) {
		sort_tree(c);
		array_append(&kids, c);
	}
	if (kids.count > 1)
		qsort(kids.items, kids.count, sizeof(*kids.items), cmp_nodes);
	n->child = NULL;
	for (size_t i = 0; i < kids.count; i++) {
		kids.items[i]->next = i + 1 < kids.count ? kids.items[i + 1] : NULL;
		n->child = kids.items[0];
	}
	if (n->msg < 0 && n->child != NULL) {
		n->date = n->child->date;
		n->order = n->child->order;
	}
	array_free(&kids);
}

static size_t count_children(const struct node *n)
{
	size_t k = 0;

	for (const struct node *c = n->child; c != NULL; c = c->next)
		k++;
	return k;
}

/* Step 4 below n. */
static void prune(struct node *n, bool is_root)
{
	struct node *c = n->child, *next;

	n->child = NULL;
	for (; c != NULL; c = next) {
		next = c->next;
		c->next = NULL;
		c->parent = NULL;
		prune(c, false);
		if (c->msg >= 0 || (c->child != NULL && is_root && count_children(c) > 1)) {
			node_link(n, c);
			continue;
		}
		while (c->child != NULL) {
			struct node *k = c->child;

			node_unlink(k);
			node_link(n, k);
		}
	}
}

/* The subject of a thread: its message's, or its first child's. */
static const struct node *subject_node(const struct node *r)
{
	return r->msg >= 0 ? r : r->child;
}

static void move_children(struct node *from, struct node *to)
{
	while (from->child != NULL) {
		struct node *k = from->child;

		node_unlink(k);
		node_link(to, k);
	}
}

/* Step 5C for root r whose subject's table entry is t (not r). */
static void merge_root(struct threader *th, struct node *r, struct node **slot)
{
	struct node *t = *slot, *d;

	if (r->msg < 0 && t->msg < 0) {
		move_children(r, t);
		node_unlink(r);
	} else if (t->msg < 0 || (r->reply && !t->reply && r->msg >= 0)) {
		node_unlink(r);
		node_link(t, r);
	} else if (r->msg < 0 || (t->reply && !r->reply)) {
		node_unlink(t);
		node_link(r, t);
		*slot = r;
	} else {
		d = node_new(th, -1);
		node_unlink(t);
		node_unlink(r);
		node_link(&th->root, d);
		node_link(d, t);
		node_link(d, r);
		*slot = d;
	}
}

/* Step 5: gather threads with the same base subject. */
static void group_subjects(struct threader *th)
{
	struct table subjects = {0};
	ARRAY(struct node *) roots = ARRAY_INIT;

	for (struct node *r = th->root.child; r != NULL; r = r->next)
		array_append(&roots, r);
	for (size_t i = 0; i < roots.count; i++) {
		struct node *r = roots.items[i];
		const struct node *s = subject_node(r);
		struct node **slot;

		if (s == NULL || s->subject[0] == '\0')
			continue;
		slot = table_get(&subjects, s->subject);
		if (*slot == NULL || (r->msg < 0 && (*slot)->msg >= 0) ||
		    (r->msg >= 0 && (*slot)->msg >= 0 && (*slot)->reply && !r->reply))
			*slot = r;
	}
	for (size_t i = 0; i < roots.count; i++) {
		struct node *r = roots.items[i];
		const struct node *s = subject_node(r);
		struct node **slot;

		if (s == NULL || s->subject[0] == '\0')
			continue;
		slot = table_get(&subjects, s->subject);
		if (*slot != r)
			merge_root(th, r, slot);
	}
	array_free(&roots);
	table_free(&subjects);
}

static void write_node(const struct threader *th, const struct node *n, struct buf *out)
{
	size_t kids = count_children(n);

	if (n->msg >= 0)
		buf_printf(out, "%u", th->msgs[n->msg].id);
	if (kids == 0)
		return;
	if (n->msg >= 0)
		buf_append_char(out, ' ');
	if (kids == 1) {
		write_node(th, n->child, out);
		return;
	}
	for (const struct node *c = n->child; c != NULL; c = c->next) {
		buf_append_char(out, '(');
		write_node(th, c, out);
		buf_append_char(out, ')');
	}
}

static void references(struct threader *th, size_t count)
{
	for (size_t i = 0; i < count; i++)
		add_message(th, (int)i);
	/* (2) the root set: every container without a parent */
	for (size_t i = 0; i < th->nodes.count; i++) {
		if (th->nodes.items[i]->parent == NULL)
			node_link(&th->root, th->nodes.items[i]);
	}
	prune(&th->root, true);
	sort_tree(&th->root);
	group_subjects(th);
}

static int cmp_subject_nodes(const void *a, const void *b)
{
	const struct node *x = *(struct node *const *)a, *y = *(struct node *const *)b;
	int r = strcmp(x->subject, y->subject);

	return r != 0 ? r : cmp_nodes(a, b);
}

/* ORDEREDSUBJECT (RFC 5256 section 3): by base subject, then date; the
   first of each subject is the parent of the others. */
static void ordered_subject(struct threader *th, size_t count)
{
	struct node **v = xcalloc(count, sizeof(*v));
	struct node *parent = NULL;

	for (size_t i = 0; i < count; i++)
		v[i] = node_new(th, (int)i);
	qsort(v, count, sizeof(*v), cmp_subject_nodes);
	for (size_t i = 0; i < count; i++) {
		if (parent != NULL && strcmp(parent->subject, v[i]->subject) == 0) {
			node_link(parent, v[i]);
			continue;
		}
		parent = v[i];
		node_link(&th->root, parent);
	}
	free(v);
}

int imap_thread_alg_parse(const char *name, enum imap_thread_alg *alg_r)
{
	if (strcasecmp(name, "ORDEREDSUBJECT") == 0)
		*alg_r = IMAP_THREAD_ORDEREDSUBJECT;
	else if (strcasecmp(name, "REFERENCES") == 0)
		*alg_r = IMAP_THREAD_REFERENCES;
	else
		return -1;
	return 0;
}

void imap_thread(enum imap_thread_alg alg, const struct imap_thread_msg *msgs, size_t count,
                 struct buf *out)
{
	struct threader th = {.msgs = msgs};

	th.root.msg = -1;
	if (alg == IMAP_THREAD_REFERENCES)
		references(&th, count);
	else
		ordered_subject(&th, count);
	sort_tree(&th.root);
	for (const struct node *r = th.root.child; r != NULL; r = r->next) {
		buf_append_char(out, '(');
		write_node(&th, r, out);
		buf_append_char(out, ')');
	}
	for (size_t i = 0; i < th.nodes.count; i++) {
		free(th.nodes.items[i]->subject);
		free(th.nodes.items[i]);
	}
	for (size_t i = 0; i < th.ids.count; i++)
		free(th.ids.items[i]);
	array_free(&th.nodes);
	array_free(&th.ids);
	table_free(&th.by_id);
}
