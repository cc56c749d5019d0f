/*
 * User interface for subsystem tiny (ids 3000 ... 3003), written by machipc-mig VERSION.
 * Do not edit: edit the .defs file and generate it again.
 */

#ifndef _tiny_user_h
#define _tiny_user_h

#include <machipc/mig.h>

#ifdef __cplusplus
extern "C" {
#endif

#define tiny_MSG_ID_BASE 3000

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
	const int32_t * values,
	mach_msg_type_number_t valuesCnt,
	char *label
);

/* SimpleRoutine poke: request id 3003, no reply */
kern_return_t poke(
	mach_port_t server,
	mach_port_t right
);

#ifdef __cplusplus
}
#endif

#endif
