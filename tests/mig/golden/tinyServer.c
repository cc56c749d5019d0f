/*
 * Server for subsystem tiny (ids 3000 ... 3003), written by machipc-mig VERSION.
 * Do not edit: edit the .defs file and generate it again.
 */

#include "tinyServer.h"
#include <stdint.h>
#include <string.h>

/* Routine add */
static void _Xadd(msg_header_t *InHeadP, msg_header_t *OutHeadP)
{
	const uint8_t *migP = (const uint8_t *)InHeadP + sizeof(msg_header_t);
	const uint8_t *migEnd = (const uint8_t *)InHeadP + InHeadP->msg_size;
	mach_port_t server = InHeadP->msg_local_port;
	int32_t a;
	{
		const uint8_t *migD = mig_get(&migP, migEnd, MSG_TYPE_INTEGER_32, 1, 1, 4, NULL, NULL);
		if (!migD)
			goto bad;
		memcpy(&a, migD, 4);
	}
	int32_t b;
	{
		const uint8_t *migD = mig_get(&migP, migEnd, MSG_TYPE_INTEGER_32, 1, 1, 4, NULL, NULL);
		if (!migD)
			goto bad;
		memcpy(&b, migD, 4);
	}
	int32_t sum;
	memset(&sum, 0, sizeof(sum));
	if (migP != migEnd)
		goto bad;
	kern_return_t migRc = add(
		server,
		a,
		b,
		&sum);
	mig_set_retcode(OutHeadP, migRc);
	if (migRc != KERN_SUCCESS) {
		return;
	}
	uint8_t *migO = (uint8_t *)OutHeadP + MIG_REPLY_BODY, *migOend = (uint8_t *)OutHeadP + tiny_MSG_SIZE_MAX;
	(void)migOend;
	migO = mig_put(migO, migOend, MSG_TYPE_INTEGER_32, 0, 1, 4, &sum);
	if (!migO)
		goto too_large;
	OutHeadP->msg_size = (msg_size_t)(migO - (uint8_t *)OutHeadP);
	return;
too_large:
	InHeadP->msg_size = sizeof(msg_header_t);	/* what it held is the server's */
	mig_set_retcode(OutHeadP, MIG_ARRAY_TOO_LARGE);
	return;
bad:
	mig_set_retcode(OutHeadP, MIG_BAD_ARGUMENTS);
}

/* Routine name */
static void _Xname(msg_header_t *InHeadP, msg_header_t *OutHeadP)
{
	const uint8_t *migP = (const uint8_t *)InHeadP + sizeof(msg_header_t);
	const uint8_t *migEnd = (const uint8_t *)InHeadP + InHeadP->msg_size;
	mach_port_t server = InHeadP->msg_local_port;
	mach_msg_type_number_t valuesCnt;
	const uint8_t *valuesData = mig_get(&migP, migEnd, MSG_TYPE_INTEGER_32, 0, 16, 4, &valuesCnt, NULL);
	if (!valuesData)
		goto bad;
	int32_t *values = (int32_t *)(uintptr_t)valuesData;
	char label[64];
	label[0] = 0;
	if (migP != migEnd)
		goto bad;
	kern_return_t migRc = name(
		server,
		values,
		valuesCnt,
		label);
	mig_set_retcode(OutHeadP, migRc);
	if (migRc != KERN_SUCCESS) {
		return;
	}
	if (mig_strnlen(label, 64) >= 64)
		goto too_large;
	uint8_t *migO = (uint8_t *)OutHeadP + MIG_REPLY_BODY, *migOend = (uint8_t *)OutHeadP + tiny_MSG_SIZE_MAX;
	(void)migOend;
	migO = mig_put(migO, migOend, MSG_TYPE_STRING, 0, (uint32_t)mig_strnlen(label, 64) + 1, 1, label);
	if (!migO)
		goto too_large;
	OutHeadP->msg_size = (msg_size_t)(migO - (uint8_t *)OutHeadP);
	return;
too_large:
	InHeadP->msg_size = sizeof(msg_header_t);	/* what it held is the server's */
	mig_set_retcode(OutHeadP, MIG_ARRAY_TOO_LARGE);
	return;
bad:
	mig_set_retcode(OutHeadP, MIG_BAD_ARGUMENTS);
}

/* SimpleRoutine poke */
static void _Xpoke(msg_header_t *InHeadP, msg_header_t *OutHeadP)
{
	const uint8_t *migP = (const uint8_t *)InHeadP + sizeof(msg_header_t);
	const uint8_t *migEnd = (const uint8_t *)InHeadP + InHeadP->msg_size;
	mach_port_t server = InHeadP->msg_local_port;
	mach_port_t right;
	{
		const uint8_t *migD = mig_get(&migP, migEnd, MSG_TYPE_MOVE_SEND, 1, 1, 4, NULL, NULL);
		if (!migD)
			goto bad;
		memcpy(&right, migD, 4);
	}
	if (migP != migEnd)
		goto bad;
	kern_return_t migRc = poke(
		server,
		right);
	mig_set_retcode(OutHeadP, migRc == KERN_SUCCESS ? MIG_NO_REPLY : migRc);
	return;
bad:
	mig_set_retcode(OutHeadP, MIG_BAD_ARGUMENTS);
}

const mig_routine_t tiny_server_routines[4] = {
	_Xadd,
	0,
	_Xname,
	_Xpoke,
};

mig_routine_t tiny_server_routine(const msg_header_t *InHeadP)
{
	int64_t i = (int64_t)InHeadP->msg_id - 3000;
	if (i < 0 || i >= 4)
		return 0;
	return tiny_server_routines[i];
}

boolean_t tiny_server(msg_header_t *InHeadP, msg_header_t *OutHeadP)
{
	mig_reply_init(InHeadP, OutHeadP);
	mig_routine_t migR = tiny_server_routine(InHeadP);
	if (!migR)
		return FALSE;
	migR(InHeadP, OutHeadP);
	return TRUE;
}
