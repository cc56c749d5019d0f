/* SPDX-License-Identifier: MIT */
/*
 * vm.c - regions, and how they travel out of line
 *
 * A region from vm_allocate() is a memfd mapped shared into this process.
 * Sending it:
 *   - moved (MSG_TYPE_FLAG_DEALLOCATE): the mapping goes, the memfd is sealed
 *     against writing, growing and shrinking, and its descriptor is handed
 *     over: no byte is copied, whatever the size;
 *   - copied: its bytes are copied once into a fresh memfd, which is sealed
 *     and handed over; later writes by the sender cannot reach the receiver.
 * Memory that is not such a region, or only part of one, travels as a copy.
 * The broker accepts nothing else: it checks every memfd's seals and size.
 *
 * A received region is mapped private (copy-on-write) and lazily: mapping
 * costs the same for 4 KiB and 1 GiB, and the receiver may write to its
 * copy.  Passing such a region on costs one copy, since it may have been
 * written.
 *
 * vm_deallocate() keeps unsealed regions of its own in a pool, so that a
 * program sending copies in a loop reuses pages already faulted in rather
 * than paying for fresh ones (they are zeroed on reuse).
 */

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "internal.h"
#include "kcall.h"

enum {
        REGION_OWN,             /* our memfd, mapped shared, writable */
        REGION_RECEIVED,        /* someone's sealed memfd, mapped private */
        REGION_SHARED,          /* a shared region (machipc_shm_map), mapped shared */
};

typedef struct {
        uintptr_t addr;
        size_t len;             /* mapped bytes: size rounded up to pages */
        int fd;                 /* REGION_OWN: the memfd; else -1 */
        uint8_t kind;
        bool pooled;            /* given back, kept for reuse */
} Region;

static pthread_mutex_t vm_lock = PTHREAD_MUTEX_INITIALIZER;
static Region *regions;
static size_t n_regions, cap_regions;
static size_t pool_bytes;

static size_t page_size(void) {
        static size_t ps;
        if (!ps)
                ps = (size_t)sysconf(_SC_PAGESIZE);
        return ps;
}

static size_t round_page(uint64_t n) {
        size_t ps = page_size();
        return (size_t)((n + ps - 1) / ps * ps);
}

static size_t pool_max(void) {
        static size_t max = (size_t)-1;
        if (max == (size_t)-1) {
                const char *e = getenv("MACHIPC_VM_POOL_BYTES");
                max = e && *e ? (size_t)strtoull(e, NULL, 0) : (size_t)256 << 20;
        }
        return max;
}

/* Lock held.  Index of the live (or pooled, if @pooled) region starting at @addr, or -1. */
static long region_find(uintptr_t addr, bool pooled) {
        for (size_t i = 0; i < n_regions; i++)
                if (regions[i].addr == addr && regions[i].pooled == pooled)
                        return (long)i;
        return -1;
}

static int region_add(uintptr_t addr, size_t len, int fd, uint8_t kind) {
        if (n_regions == cap_regions) {
                size_t cap = cap_regions ? cap_regions * 2 : 16;
                Region *r = realloc(regions, cap * sizeof(*r));
                if (!r)
                        return -ENOMEM;
                regions = r;
                cap_regions = cap;
        }
        regions[n_regions++] = (Region){ .addr = addr, .len = len, .fd = fd, .kind = kind };
        return 0;
}

static void region_del(size_t i) {
        regions[i] = regions[--n_regions];
}

static bool is_self(port_t task) {
        return task == PORT_NULL || task == task_self();
}

/* A new shared memfd region of @len bytes; returns its address or 0. */
static uintptr_t memfd_region(size_t len, int *fdp) {
        int fd = memfd_create("machipc-region", MFD_CLOEXEC | MFD_ALLOW_SEALING);
        if (fd < 0)
                return 0;
        if (ftruncate(fd, (off_t)len) < 0) {
                close(fd);
                return 0;
        }
        void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (p == MAP_FAILED) {
                close(fd);
                return 0;
        }
        *fdp = fd;
        return (uintptr_t)p;
}

kern_return_t vm_allocate(port_t task, vm_address_t *address, vm_size_t size, int anywhere) {
        if (!address)
                return -EINVAL;
        if (!anywhere || size > MSG_OOL_SIZE_MAX || !is_self(task))
                return KERN_INVALID_ARGUMENT;
        if (size == 0) {
                *address = 0;
                return KERN_SUCCESS;
        }
        size_t len = round_page(size);
        pthread_mutex_lock(&vm_lock);
        /* Reuse a pooled region of the same length: its pages are already there. */
        for (size_t i = 0; i < n_regions; i++) {
                Region *r = &regions[i];
                if (r->pooled && r->len == len) {
                        r->pooled = false;
                        pool_bytes -= r->len;
                        uintptr_t a = r->addr;
                        pthread_mutex_unlock(&vm_lock);
                        memset((void *)a, 0, len);
                        *address = a;
                        return KERN_SUCCESS;
                }
        }
        int fd;
        uintptr_t a = memfd_region(len, &fd);
        if (!a || region_add(a, len, fd, REGION_OWN) < 0) {
                if (a) {
                        munmap((void *)a, len);
                        close(fd);
                }
                pthread_mutex_unlock(&vm_lock);
                return KERN_RESOURCE_SHORTAGE;
        }
        pthread_mutex_unlock(&vm_lock);
        *address = a;
        return KERN_SUCCESS;
}

/* Lock held: drop pooled regions until the pool fits @room more bytes. */
static void pool_trim(size_t room) {
        for (size_t i = 0; i < n_regions && pool_bytes + room > pool_max();) {
                if (!regions[i].pooled) {
                        i++;
                        continue;
                }
                munmap((void *)regions[i].addr, regions[i].len);
                close(regions[i].fd);
                pool_bytes -= regions[i].len;
                region_del(i);
        }
}

kern_return_t vm_deallocate(port_t task, vm_address_t address, vm_size_t size) {
        if (!is_self(task))
                return KERN_INVALID_ARGUMENT;
        if (address == 0 && size == 0)
                return KERN_SUCCESS;
        pthread_mutex_lock(&vm_lock);
        long i = region_find(address, false);
        if (i < 0) {
                pthread_mutex_unlock(&vm_lock);
                return KERN_INVALID_ADDRESS;
        }
        Region *r = &regions[i];
        if (size > r->len) {
                pthread_mutex_unlock(&vm_lock);
                return KERN_INVALID_ARGUMENT;
        }
        if (r->kind == REGION_OWN && r->len <= pool_max()) {
                pool_trim(r->len);
                i = region_find(address, false);        /* trimming may have moved it */
                regions[i].pooled = true;
                pool_bytes += regions[i].len;
        } else {
                munmap((void *)r->addr, r->len);
                if (r->fd >= 0)
                        close(r->fd);
                region_del((size_t)i);
        }
        pthread_mutex_unlock(&vm_lock);
        return KERN_SUCCESS;
}

/* Seal what the broker requires; the memfd must have no writable shared mapping left. */
static int seal(int fd) {
        return fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL);
}

/*
 * A sealed memfd holding a copy of @size bytes at @src (or, when @src_fd is
 * not -1, of that memfd's first @size bytes); returns it or -errno.
 * Measured here (doc/performance.md): pwrite() in 16 MiB pieces lets the
 * kernel allocate page-cache pages as it copies, 2.2x faster than mapping the
 * memfd and copying into it fault by fault; one huge pwrite() from a shared
 * mapping is pathological (1 GiB: 3.9 s against 0.9 s); copy_file_range()
 * from our own region's memfd is faster still (1 GiB: 0.5 s).
 */
static int copy_to_memfd(const void *src, int src_fd, uint64_t size) {
        int fd = memfd_create("machipc-region", MFD_CLOEXEC | MFD_ALLOW_SEALING);
        if (fd < 0)
                return -errno;
        int r = 0;
        if (ftruncate(fd, (off_t)round_page(size)) < 0)
                r = -errno;
        uint64_t off = 0;
        if (r == 0 && src_fd >= 0) {
                off_t in = 0, out = 0;
                while (off < size) {
                        ssize_t w = copy_file_range(src_fd, &in, fd, &out, (size_t)(size - off), 0);
                        if (w <= 0)
                                break;  /* not supported here: pwrite() does the rest */
                        off += (uint64_t)w;
                }
        }
        while (r == 0 && off < size) {
                size_t chunk = size - off > (16u << 20) ? (16u << 20) : (size_t)(size - off);
                ssize_t w = pwrite(fd, (const uint8_t *)src + off, chunk, (off_t)off);
                if (w < 0 && errno == EINTR)
                        continue;
                if (w <= 0)
                        r = w < 0 ? -errno : -EIO;
                else
                        off += (uint64_t)w;
        }
        if (r == 0 && seal(fd) < 0)
                r = -errno;
        if (r < 0) {
                close(fd);
                return r;
        }
        return fd;
}

/**
 * ool_prepare() - turn a message's out-of-line items into wire form
 * @h: the caller's message
 * @plan: out; plan->wire is NULL when there is nothing out of line
 *
 * Return: 0, SEND_INVALID_MEMORY (a descriptor that is not open), SEND_TOO_LARGE,
 * SEND_MSG_TOO_SMALL (items that do not parse), -ENOMEM.
 */
int ool_prepare(const msg_header_t *h, OolPlan *plan) {
        const uint8_t *msg = (const uint8_t *)h;
        WireItemIter it;
        WireItem item;
        memset(plan, 0, sizeof(*plan));
        /* Find out-of-line items first; most messages have none. */
        bool any = false;
        wire_item_iter_init(&it, msg, h->msg_size);
        while (wire_item_next(&it, &item)) {
                if (item.offset + item.bytes > h->msg_size)
                        return 0;       /* malformed: the broker will say so */
                if (item.name == MSG_TYPE_MEMORY || item.name == MSG_TYPE_FD)
                        any = true;
        }
        if (!any)
                return 0;
        plan->wire = malloc(h->msg_size + WIRE_ATTACH_MAX);
        if (!plan->wire)
                return -ENOMEM;
        plan->attach = plan->wire + h->msg_size;
        memcpy(plan->wire, msg, h->msg_size);
        int r = 0;
        wire_item_iter_init(&it, msg, h->msg_size);
        while (r == 0 && wire_item_next(&it, &item)) {
                bool move = item.flags & MSG_TYPE_FLAG_DEALLOCATE;
                for (uint32_t j = 0; r == 0 && j < item.number; j++) {
                        OolEntry *e;
                        if (item.name == MSG_TYPE_FD) {
                                if (plan->n_fds >= MSG_FDS_MAX) {
                                        r = SEND_TOO_LARGE;
                                        break;
                                }
                                e = &plan->e[plan->n++];
                                e->offset = item.offset + 4 * j;
                                int32_t fd;
                                memcpy(&fd, msg + e->offset, 4);
                                if (fd < 0 || fcntl(fd, F_GETFD) < 0) {
                                        r = SEND_INVALID_MEMORY;
                                        break;
                                }
                                e->action = move ? OOL_FD_MOVE : OOL_FD_PASS;
                                e->fd = fd;
                                e->orig = (uint32_t)fd;
                                wire_put_le32(plan->wire + e->offset, plan->n_fds);
                                plan->fds[plan->n_fds++] = fd;
                                continue;
                        }
                        if (item.name != MSG_TYPE_MEMORY)
                                break;
                        uint32_t off = item.offset + 16 * j;
                        msg_ool_t o;
                        memcpy(&o, msg + off, sizeof(o));
                        if (o.size == 0)
                                continue;
                        if (o.size > MSG_OOL_SIZE_MAX || plan->n_fds >= MSG_FDS_MAX) {
                                r = SEND_TOO_LARGE;
                                break;
                        }
                        e = &plan->e[plan->n++];
                        e->offset = off;
                        e->orig = o.address;
                        e->size = o.size;
                        e->fd = -1;
                        if (o.size <= WIRE_ATTACH_MAX - plan->attach_len) {
                                /* Small: cheaper as bytes in the frame than as a memfd. */
                                memcpy(plan->attach + plan->attach_len, (const void *)(uintptr_t)o.address,
                                       (size_t)o.size);
                                e->action = move ? OOL_INLINE_THEN_FREE : OOL_INLINE;
                                o.address = WIRE_OOL_INLINE | plan->attach_len;
                                plan->attach_len += (uint32_t)o.size;
                                memcpy(plan->wire + off, &o, sizeof(o));
                                continue;
                        }
                        pthread_mutex_lock(&vm_lock);
                        long i = region_find((uintptr_t)o.address, false);
                        Region *rg = i >= 0 ? &regions[i] : NULL;
                        /* A copy of our own region can come straight from its memfd. */
                        int own_fd = rg && rg->kind == REGION_OWN && o.size <= rg->len ? dup(rg->fd) : -1;
                        /* Zero copies: a whole region of our own, moved. */
                        if (move && rg && rg->kind == REGION_OWN && rg->len == round_page(o.size)) {
                                munmap((void *)rg->addr, rg->len);
                                if (seal(rg->fd) == 0) {
                                        e->action = OOL_MOVED_REGION;
                                        e->fd = rg->fd;
                                        e->len = rg->len;
                                } else {
                                        /* Cannot seal (someone else maps it): put it back, copy. */
                                        mmap((void *)rg->addr, rg->len, PROT_READ | PROT_WRITE,
                                             MAP_SHARED | MAP_FIXED, rg->fd, 0);
                                }
                        }
                        pthread_mutex_unlock(&vm_lock);
                        if (e->fd >= 0 && own_fd >= 0) {
                                close(own_fd);  /* moved without a copy: not needed */
                                own_fd = -1;
                        }
                        if (e->fd < 0) {
                                int fd = copy_to_memfd((const void *)(uintptr_t)o.address, own_fd, o.size);
                                if (own_fd >= 0)
                                        close(own_fd);
                                if (fd < 0) {
                                        r = fd;
                                        plan->n--;
                                        break;
                                }
                                e->action = move ? OOL_COPY_THEN_FREE : OOL_COPY;
                                e->fd = fd;
                        }
                        o.address = plan->n_fds;
                        memcpy(plan->wire + off, &o, sizeof(o));
                        plan->fds[plan->n_fds++] = e->fd;
                }
        }
        if (r != 0)
                ool_finish(plan, false);
        return r;
}

/**
 * ool_finish() - after the send: @sent, the moves take effect; otherwise the
 * caller keeps everything it had (a moved region is mapped back, privately)
 */
void ool_finish(OolPlan *plan, bool sent) {
        for (uint32_t i = 0; i < plan->n; i++) {
                OolEntry *e = &plan->e[i];
                switch (e->action) {
                case OOL_FD_PASS:
                case OOL_INLINE:
                        break;
                case OOL_INLINE_THEN_FREE:
                        if (sent)
                                vm_deallocate(PORT_NULL, (vm_address_t)e->orig, e->size);
                        break;
                case OOL_FD_MOVE:
                        if (sent)
                                close(e->fd);
                        break;
                case OOL_COPY:
                        close(e->fd);
                        break;
                case OOL_COPY_THEN_FREE:
                        close(e->fd);
                        if (sent)
                                vm_deallocate(PORT_NULL, (vm_address_t)e->orig, e->size);
                        break;
                case OOL_MOVED_REGION:
                        pthread_mutex_lock(&vm_lock);
                        long j = region_find((uintptr_t)e->orig, false);
                        if (sent) {
                                close(e->fd);
                                if (j >= 0)
                                        region_del((size_t)j);
                        } else if (j >= 0) {
                                /* Sealed now: the caller gets its data back copy-on-write. */
                                void *p = mmap((void *)(uintptr_t)e->orig, e->len, PROT_READ | PROT_WRITE,
                                               MAP_PRIVATE | MAP_FIXED, e->fd, 0);
                                (void)p;
                                close(e->fd);
                                regions[j].fd = -1;
                                regions[j].kind = REGION_RECEIVED;
                        }
                        pthread_mutex_unlock(&vm_lock);
                        break;
                }
        }
        free(plan->wire);
        plan->wire = NULL;
        plan->attach = NULL;
        plan->attach_len = 0;
        plan->n = 0;
        plan->n_fds = 0;
}

/* ool_restore() - a returned message is in wire form at @h: put the caller's values back. */
void ool_restore(const OolPlan *plan, msg_header_t *h) {
        uint8_t *msg = (uint8_t *)h;
        for (uint32_t i = 0; i < plan->n; i++) {
                const OolEntry *e = &plan->e[i];
                if (e->offset + 8 > h->msg_size)
                        continue;
                if (e->action == OOL_FD_PASS || e->action == OOL_FD_MOVE)
                        wire_put_le32(msg + e->offset, (uint32_t)e->orig);
                else
                        memcpy(msg + e->offset, &e->orig, sizeof(e->orig));
        }
}

/**
 * ool_receive() - map the regions and place the descriptors of a received message
 * @h: the message, in wire form; rewritten with addresses and descriptors
 * @fds, @n_fds: the descriptors that came with it; all are consumed
 * @attach, @attach_len: the bytes of its inline regions
 *
 * Return: 0, or RCV_BODY_ERROR if one could not be received (it reads as
 * address 0 or descriptor -1).
 */
int ool_receive(msg_header_t *h, size_t buf_size, int *fds, uint32_t n_fds, const uint8_t *attach,
                size_t attach_len) {
        uint8_t *msg = (uint8_t *)h;
        WireItemIter it;
        WireItem item;
        int r = 0;
        bool used[WIRE_FDS_MAX] = { false };
        size_t size = h->msg_size < buf_size ? h->msg_size : buf_size;
        wire_item_iter_init(&it, msg, (uint32_t)size);
        while (wire_item_next(&it, &item)) {
                if (item.offset + item.bytes > size)
                        break;
                for (uint32_t j = 0; j < item.number; j++) {
                        if (item.name == MSG_TYPE_FD) {
                                uint32_t idx = wire_get_le32(msg + item.offset + 4 * j);
                                int32_t fd = -1;
                                if (idx < n_fds && !used[idx]) {
                                        fd = fds[idx];
                                        used[idx] = true;
                                } else {
                                        r = RCV_BODY_ERROR;
                                }
                                memcpy(msg + item.offset + 4 * j, &fd, 4);
                                continue;
                        }
                        if (item.name != MSG_TYPE_MEMORY)
                                break;
                        msg_ool_t o;
                        memcpy(&o, msg + item.offset + 16 * j, sizeof(o));
                        if (o.size == 0) {
                                o.address = 0;
                                memcpy(msg + item.offset + 16 * j, &o, sizeof(o));
                                continue;
                        }
                        uint64_t idx = o.address;
                        o.address = 0;
                        if (idx & WIRE_OOL_INLINE) {
                                /* Came in the frame: new memory from the pool. */
                                uint64_t at = idx & ~WIRE_OOL_INLINE;
                                vm_address_t a;
                                if (attach && at <= attach_len && o.size <= attach_len - at &&
                                    vm_allocate(PORT_NULL, &a, o.size, 1) == KERN_SUCCESS) {
                                        memcpy((void *)a, attach + at, (size_t)o.size);
                                        o.address = a;
                                }
                        } else if (idx < n_fds && !used[idx]) {
                                used[idx] = true;
                                size_t len = round_page(o.size);
                                /* Private and lazy: no page is touched until read. */
                                void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE, fds[idx], 0);
                                if (p != MAP_FAILED) {
                                        pthread_mutex_lock(&vm_lock);
                                        if (region_add((uintptr_t)p, len, -1, REGION_RECEIVED) == 0)
                                                o.address = (uintptr_t)p;
                                        else
                                                munmap(p, len);
                                        pthread_mutex_unlock(&vm_lock);
                                }
                                close(fds[idx]);
                        }
                        if (!o.address)
                                r = RCV_BODY_ERROR;
                        memcpy(msg + item.offset + 16 * j, &o, sizeof(o));
                }
        }
        for (uint32_t i = 0; i < n_fds; i++)
                if (!used[i])
                        close(fds[i]);
        return r;
}

typedef union {
        msg_header_t h;
        uint8_t bytes[sizeof(msg_header_t) + 3 * MSG_ITEM_SIZE(12)];
} ShmBuf;

kern_return_t machipc_shm_create(vm_size_t size, port_t *object) {
        if (!object)
                return -EINVAL;
        if (size == 0 || size > MSG_OOL_SIZE_MAX)
                return KERN_INVALID_ARGUMENT;
        int fd = memfd_create("machipc-shm", MFD_CLOEXEC | MFD_ALLOW_SEALING);
        if (fd < 0)
                return -errno;
        if (ftruncate(fd, (off_t)round_page(size)) < 0) {
                int r = -errno;
                close(fd);
                return r;
        }
        ShmBuf b;
        memset(&b, 0, sizeof(b));
        uint8_t *p = b.bytes + sizeof(msg_header_t);
        msg_type_t t = { MSG_TYPE_INTEGER_32, 0, 2 };
        uint32_t args[2] = { (uint32_t)size, (uint32_t)(size >> 32) };
        memcpy(p, &t, sizeof(t));
        memcpy(p + sizeof(t), args, 8);
        p += MSG_ITEM_SIZE(8);
        msg_type_t ft = { MSG_TYPE_FD, MSG_TYPE_FLAG_DEALLOCATE, 1 };
        memcpy(p, &ft, sizeof(ft));
        memcpy(p + sizeof(ft), &fd, 4);
        p += MSG_ITEM_SIZE(4);
        b.h.msg_size = (uint32_t)(p - b.bytes);
        b.h.msg_remote_port = task_self();
        b.h.msg_id = KCALL_SHM_CREATE;
        b.h.msg_bits = MSG_BITS(MSG_TYPE_COPY_SEND, 0);
        int r = msg_rpc(&b.h, MSG_OPTION_NONE, sizeof(b), 0, 0);
        if (r != 0) {
                if (fcntl(fd, F_GETFD) >= 0)
                        close(fd);      /* not sent, so still ours */
                return r;
        }
        WireItemIter it;
        WireItem item;
        int32_t kr;
        wire_item_iter_init(&it, b.bytes, b.h.msg_size);
        if (b.h.msg_id != KCALL_SHM_CREATE + KCALL_REPLY_DELTA || !wire_item_next(&it, &item) ||
            item.name != MSG_TYPE_INTEGER_32 || item.number < 1)
                return -EPROTO;
        memcpy(&kr, b.bytes + item.offset, 4);
        if (kr != 0)
                return kr;
        if (!wire_item_next(&it, &item) || item.number != 1)
                return -EPROTO;
        port_t right;
        memcpy(&right, b.bytes + item.offset, 4);
        if (right == PORT_NULL)
                return KERN_NO_SPACE;   /* no room for its name: the region is gone already */
        *object = right;
        return KERN_SUCCESS;
}

kern_return_t machipc_shm_map(port_t object, vm_address_t *address, vm_size_t *size) {
        if (!address || !size)
                return -EINVAL;
        ShmBuf b;
        memset(&b, 0, sizeof(b));
        b.h.msg_size = sizeof(msg_header_t);
        b.h.msg_remote_port = object;
        b.h.msg_id = SHM_MAP;
        b.h.msg_bits = MSG_BITS(MSG_TYPE_COPY_SEND, 0);
        int r = msg_rpc(&b.h, MSG_OPTION_NONE, sizeof(b), 0, 0);
        if (r != 0)
                return r;
        WireItemIter it;
        WireItem item;
        int32_t res[3];
        wire_item_iter_init(&it, b.bytes, b.h.msg_size);
        if (b.h.msg_id != SHM_MAP + KCALL_REPLY_DELTA)
                return KERN_INVALID_ARGUMENT;   /* not a shared region's port */
        if (!wire_item_next(&it, &item) || item.name != MSG_TYPE_INTEGER_32 || item.number < 1)
                return -EPROTO;
        if (item.number != 3) {
                /* Another kind of kernel port answered: not a shared region. */
                memcpy(res, b.bytes + item.offset, 4);
                return res[0] ? res[0] : KERN_INVALID_ARGUMENT;
        }
        memcpy(res, b.bytes + item.offset, sizeof(res));
        int32_t fd = -1;
        if (wire_item_next(&it, &item) && item.name == MSG_TYPE_FD && item.number == 1)
                memcpy(&fd, b.bytes + item.offset, 4);
        if (res[0] != 0) {
                if (fd >= 0)
                        close(fd);
                return res[0];
        }
        if (fd < 0)
                return KERN_RESOURCE_SHORTAGE;
        uint64_t sz = (uint64_t)(uint32_t)res[1] | (uint64_t)(uint32_t)res[2] << 32;
        size_t len = round_page(sz);
        void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        close(fd);
        if (p == MAP_FAILED)
                return KERN_RESOURCE_SHORTAGE;
        pthread_mutex_lock(&vm_lock);
        int ar = region_add((uintptr_t)p, len, -1, REGION_SHARED);
        pthread_mutex_unlock(&vm_lock);
        if (ar < 0) {
                munmap(p, len);
                return -ENOMEM;
        }
        *address = (uintptr_t)p;
        *size = sz;
        return KERN_SUCCESS;
}
