/**
 * @file sofia_log.h  Sofia-SIP's own log lines (transport errors and the
 * like) sent into the gateway's log instead of raw stderr.
 */
#ifndef WTPF_SOFIA_LOG_H
#define WTPF_SOFIA_LOG_H

/** Redirects Sofia's logs (su, nta, nua, tport) to log_write(). Call once. */
void sofia_log_redirect(void);

#endif
