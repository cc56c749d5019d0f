#pragma once
/* SPDX-License-Identifier: MIT */
/* machipc/machipc.h - umbrella header of libmachipc */

#include <machipc/types.h>
#include <machipc/return.h>
#include <machipc/conn.h>
#include <machipc/port.h>
#include <machipc/msg.h>
#include <machipc/netname.h>
#include <machipc/vm.h>
#include <machipc/semaphore.h>

#define MACHIPC_VERSION_MAJOR 0
#define MACHIPC_VERSION_MINOR 1
