/**
 * @file sip_mclass.c  The extended SIP message class, built once.
 */
#include "sip_mclass.h"

#include <sofia-sip/sip.h>
#include <sofia-sip/sip_extra.h>

msg_mclass_t const *sip_mclass_extended(void)
{
	static msg_mclass_t *mc;   /* one thread: the gateway's loop */

	if (!mc)
		mc = sip_extend_mclass(NULL);
	return mc ? mc : sip_default_mclass();
}
