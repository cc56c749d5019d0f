/*
 * Server interface for subsystem tiny (ids 3000 ... 3003), written by machipc-mig VERSION.
 * Do not edit: edit the .defs file and generate it again.
 */

#ifndef _tiny_server_h
#define _tiny_server_h

#include <machipc/mig.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Requests and replies are at most this many bytes: the size for machipc_msg_server(). */
#define tiny_MSG_SIZE_MAX 112
#define tiny_MSG_ID_BASE 3000
#define tiny_MSG_IDS 4

/* Serve one request: true if it was one of ours.  @out needs tiny_MSG_SIZE_MAX bytes. */
boolean_t tiny_server(msg_header_t *InHeadP, msg_header_t *OutHeadP);
/* The routine for a request, or NULL. */
mig_routine_t tiny_server_routine(const msg_header_t *InHeadP);
extern const mig_routine_t tiny_server_routines[4];

/* What the server implements: */

/* Routine add: request id 3000 */
kern_return_t add(
	mach_port_t server,
	int32_t a,
	int32_t b,
	int32_t *sum
);

/* Routine name: request id 3002 */
kern_return_t name(
	mach_port_t server,
	int32_t * values,
	mach_msg_type_number_t valuesCnt,
	char * label
);

/* SimpleRoutine poke: request id 3003 */
kern_return_t poke(
	mach_port_t server,
	mach_port_t right
);

#ifdef __cplusplus
}
#endif

#endif
