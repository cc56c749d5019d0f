/*
 * User stubs for subsystem tiny (ids 3000 ... 3003), written by machipc-mig VERSION.
 * Do not edit: edit the .defs file and generate it again.
 */

#include "tiny.h"
#include <stdint.h>
#include <string.h>

/* Routine add: request id 3000 */
kern_return_t add(
	mach_port_t server,
	int32_t a,
	int32_t b,
	int32_t *sum
)
{
	union {
		msg_header_t Head;
		uint64_t align;
		uint8_t bytes[56];
	} migM;
	uint8_t *migP = migM.bytes + sizeof(msg_header_t), *migEnd = migM.bytes + sizeof(migM.bytes);
	(void)migEnd;
	_Static_assert(sizeof(int32_t) == 4, "a: expected int32_t to be 4 bytes");
	if (!(migP = mig_put(migP, migEnd, MSG_TYPE_INTEGER_32, 0, 1, 4, &a)))
		return MIG_ARRAY_TOO_LARGE;
	_Static_assert(sizeof(int32_t) == 4, "b: expected int32_t to be 4 bytes");
	if (!(migP = mig_put(migP, migEnd, MSG_TYPE_INTEGER_32, 0, 1, 4, &b)))
		return MIG_ARRAY_TOO_LARGE;
	migM.Head.msg_size = (msg_size_t)(migP - migM.bytes);
	migM.Head.msg_remote_port = server;
	migM.Head.msg_local_port = PORT_NULL;
	migM.Head.msg_id = 3000;
	migM.Head.msg_bits = MSG_BITS(MSG_TYPE_COPY_SEND, MSG_TYPE_MAKE_SEND_ONCE);
	migM.Head.msg_seqno = 0;
	msg_return_t migR = msg_rpc(&migM.Head, MSG_OPTION_NONE, sizeof(migM), 0, 0);
	if (migR != 0)
		return migR == RCV_SERVER_DIED ? MIG_SERVER_DIED : migR;
	if (migM.Head.msg_id != 3100) {
		msg_destroy(&migM.Head);
		return migM.Head.msg_id == NOTIFY_SEND_ONCE ? MIG_SERVER_DIED : MIG_REPLY_MISMATCH;
	}
	const uint8_t *migQ = migM.bytes + sizeof(msg_header_t), *migQend = migM.bytes + migM.Head.msg_size;
	kern_return_t migRc;
	{
		const uint8_t *migD = mig_get(&migQ, migQend, MSG_TYPE_INTEGER_32, 1, 1, 4, NULL, NULL);
		if (!migD)
			goto bad;
		memcpy(&migRc, migD, 4);
	}
	if (migRc != KERN_SUCCESS) {
		if (migQ != migQend)
			goto bad;
		return migRc;
	}
	{
		const uint8_t *migD = mig_get(&migQ, migQend, MSG_TYPE_INTEGER_32, 1, 1, 4, NULL, NULL);
		if (!migD)
			goto bad;
		memcpy(sum, migD, 4);
	}
	if (migQ != migQend)
		goto bad;
	return migRc;
bad:
	msg_destroy(&migM.Head);
	return MIG_TYPE_ERROR;
}

/* Routine name: request id 3002 */
kern_return_t name(
	mach_port_t server,
	const int32_t * values,
	mach_msg_type_number_t valuesCnt,
	char *label
)
{
	union {
		msg_header_t Head;
		uint64_t align;
		uint8_t bytes[112];
	} migM;
	uint8_t *migP = migM.bytes + sizeof(msg_header_t), *migEnd = migM.bytes + sizeof(migM.bytes);
	(void)migEnd;
	if (valuesCnt > 16)
		return MIG_ARRAY_TOO_LARGE;
	if (!(migP = mig_put(migP, migEnd, MSG_TYPE_INTEGER_32, 0, valuesCnt, 4, values)))
		return MIG_ARRAY_TOO_LARGE;
	migM.Head.msg_size = (msg_size_t)(migP - migM.bytes);
	migM.Head.msg_remote_port = server;
	migM.Head.msg_local_port = PORT_NULL;
	migM.Head.msg_id = 3002;
	migM.Head.msg_bits = MSG_BITS(MSG_TYPE_COPY_SEND, MSG_TYPE_MAKE_SEND_ONCE);
	migM.Head.msg_seqno = 0;
	msg_return_t migR = msg_rpc(&migM.Head, MSG_OPTION_NONE, sizeof(migM), 0, 0);
	if (migR != 0)
		return migR == RCV_SERVER_DIED ? MIG_SERVER_DIED : migR;
	if (migM.Head.msg_id != 3102) {
		msg_destroy(&migM.Head);
		return migM.Head.msg_id == NOTIFY_SEND_ONCE ? MIG_SERVER_DIED : MIG_REPLY_MISMATCH;
	}
	const uint8_t *migQ = migM.bytes + sizeof(msg_header_t), *migQend = migM.bytes + migM.Head.msg_size;
	kern_return_t migRc;
	{
		const uint8_t *migD = mig_get(&migQ, migQend, MSG_TYPE_INTEGER_32, 1, 1, 4, NULL, NULL);
		if (!migD)
			goto bad;
		memcpy(&migRc, migD, 4);
	}
	if (migRc != KERN_SUCCESS) {
		if (migQ != migQend)
			goto bad;
		return migRc;
	}
	{
		uint32_t migCnt;
		const uint8_t *migD = mig_get(&migQ, migQend, MSG_TYPE_STRING, 1, 64, 1, &migCnt, NULL);
		if (!migD || migD[migCnt - 1] != 0)
			goto bad;
		memcpy(label, migD, migCnt);
	}
	if (migQ != migQend)
		goto bad;
	return migRc;
bad:
	msg_destroy(&migM.Head);
	return MIG_TYPE_ERROR;
}

/* SimpleRoutine poke: request id 3003, no reply */
kern_return_t poke(
	mach_port_t server,
	mach_port_t right
)
{
	union {
		msg_header_t Head;
		uint64_t align;
		uint8_t bytes[40];
	} migM;
	uint8_t *migP = migM.bytes + sizeof(msg_header_t), *migEnd = migM.bytes + sizeof(migM.bytes);
	(void)migEnd;
	_Static_assert(sizeof(mach_port_t) == 4, "right: expected mach_port_t to be 4 bytes");
	if (!(migP = mig_put(migP, migEnd, MSG_TYPE_MAKE_SEND, 0, 1, 4, &right)))
		return MIG_ARRAY_TOO_LARGE;
	migM.Head.msg_size = (msg_size_t)(migP - migM.bytes);
	migM.Head.msg_remote_port = server;
	migM.Head.msg_local_port = PORT_NULL;
	migM.Head.msg_id = 3003;
	migM.Head.msg_bits = MSG_BITS(MSG_TYPE_COPY_SEND, 0);
	migM.Head.msg_seqno = 0;
	return msg_send(&migM.Head, MSG_OPTION_NONE, 0);
}

