/**
 * @file sip_mclass.h  The SIP message class every part of the gateway
 * parses with: Sofia's default headers plus the extra ones of
 * <sofia-sip/sip_extra.h> (P-Asserted-Identity, P-Preferred-Identity,
 * Privacy...), so that they arrive parsed rather than as unknown headers.
 */
#ifndef WTPF_SIP_MCLASS_H
#define WTPF_SIP_MCLASS_H

#include <sofia-sip/msg_mclass.h>

/** The extended class; built on first use, read-only afterwards. */
msg_mclass_t const *sip_mclass_extended(void);

#endif
