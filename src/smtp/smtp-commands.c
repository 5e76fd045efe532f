/* The SMTP command table: verb, handler, flags. One place to see what is
   allowed when. */
#include "smtp/smtp-server-private.h"

const struct smtp_cmd_def smtp_commands[SMTP_VERB_COUNT] = {
    [SMTP_VERB_HELO] = {SMTP_VERB_HELO, smtp_cmd_helo,
                        SMTP_CMD_BEFORE_HELO | SMTP_CMD_BEFORE_TLS | SMTP_CMD_NOT_LMTP},
    [SMTP_VERB_EHLO] = {SMTP_VERB_EHLO, smtp_cmd_ehlo,
                        SMTP_CMD_BEFORE_HELO | SMTP_CMD_BEFORE_TLS | SMTP_CMD_NOT_LMTP},
    /* RFC 2033 section 4.1 */
    [SMTP_VERB_LHLO] = {SMTP_VERB_LHLO, smtp_cmd_lhlo,
                        SMTP_CMD_BEFORE_HELO | SMTP_CMD_BEFORE_TLS | SMTP_CMD_LMTP_ONLY},
    [SMTP_VERB_MAIL] = {SMTP_VERB_MAIL, smtp_cmd_mail, 0},
    [SMTP_VERB_RCPT] = {SMTP_VERB_RCPT, smtp_cmd_rcpt, 0},
    [SMTP_VERB_DATA] = {SMTP_VERB_DATA, smtp_cmd_data, 0},
    /* BDAT makes these checks itself: a refused chunk must still be read */
    [SMTP_VERB_BDAT] = {SMTP_VERB_BDAT, smtp_cmd_bdat, SMTP_CMD_BEFORE_HELO | SMTP_CMD_BEFORE_TLS},
    [SMTP_VERB_RSET] = {SMTP_VERB_RSET, smtp_cmd_rset, SMTP_CMD_BEFORE_HELO | SMTP_CMD_BEFORE_TLS},
    [SMTP_VERB_NOOP] = {SMTP_VERB_NOOP, smtp_cmd_noop, SMTP_CMD_BEFORE_HELO | SMTP_CMD_BEFORE_TLS},
    [SMTP_VERB_QUIT] = {SMTP_VERB_QUIT, smtp_cmd_quit, SMTP_CMD_BEFORE_HELO | SMTP_CMD_BEFORE_TLS},
    [SMTP_VERB_VRFY] = {SMTP_VERB_VRFY, smtp_cmd_vrfy, SMTP_CMD_BEFORE_HELO},
    [SMTP_VERB_EXPN] = {SMTP_VERB_EXPN, smtp_cmd_not_implemented, SMTP_CMD_BEFORE_HELO},
    [SMTP_VERB_HELP] = {SMTP_VERB_HELP, smtp_cmd_help, SMTP_CMD_BEFORE_HELO | SMTP_CMD_BEFORE_TLS},
    /* RFC 3207 section 4: STARTTLS comes after EHLO */
    [SMTP_VERB_STARTTLS] = {SMTP_VERB_STARTTLS, smtp_cmd_starttls, SMTP_CMD_BEFORE_TLS},
    /* RFC 4954; smtp-cmd-auth.c refuses it where the policy has no AUTH */
    /* before TLS too: smtp-cmd-auth.c answers 538 there unless loopback
       plaintext is allowed */
    [SMTP_VERB_AUTH] = {SMTP_VERB_AUTH, smtp_cmd_auth, SMTP_CMD_NOT_LMTP | SMTP_CMD_BEFORE_TLS},
};
