/* The one place that lists what tern.conf may hold beyond lib's global
   keys: each subsystem's section and each role's services. A new role adds
   its section and services here and its role_ops in cmd-serve.c. */
#include "cli/cli-settings.h"

#include "auth/auth-settings.h"
#include "dns/dns-settings.h"
#include "filter/filter-settings.h"
#include "guard/guard-settings.h"
#include "imap/imap-settings.h"
#include "mailauth/mailauth-settings.h"
#include "managesieve/managesieve-settings.h"
#include "pop3/pop3-settings.h"
#include "queue/queue-settings.h"
#include "sieve/sieve-settings.h"
#include "smtp/smtp-settings.h"
#include "smtp/smtp-submission-settings.h"
#include "store/quota-settings.h"

#define N_ELEMENTS(a) (sizeof(a) / sizeof((a)[0]))

/* In dump order, after lib's top level, tls { } and limits { }. */
static const struct settings_section *const sections[] = {
    &auth_settings_section,        &smtp_settings_section,   &submission_settings_section,
    &lmtp_settings_section,        &imap_settings_section,   &dns_settings_section,
    &mailauth_settings_section,    &queue_settings_section,  &guard_settings_section,
    &pop3_settings_section,        &sieve_settings_section,  &quota_settings_section,
    &managesieve_settings_section, &milter_settings_section,
};

/* The services of the roles of cmd-serve.c, in the order messages list
   them. */
static const struct service_def *const services[] = {
    &smtp_service_smtp,  &smtp_service_submission, &smtp_service_submissions,
    &imap_service_imap,  &imap_service_imaps,      &pop3_service_pop3,
    &pop3_service_pop3s, &smtp_service_lmtp,       &managesieve_service_sieve,
};

const struct settings_schema tern_settings_schema = {
    sections,
    N_ELEMENTS(sections),
    services,
    N_ELEMENTS(services),
};
