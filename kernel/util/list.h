#pragma once
/* SPDX-License-Identifier: MIT */
/* list.h - intrusive doubly linked lists (circular, with a sentinel) */

#include <stdbool.h>
#include <stddef.h>

typedef struct ListLink ListLink;
struct ListLink {
        ListLink *prev;
        ListLink *next;
};

/* A link not on any list points at itself. */
#define LIST_INIT(l) { &(l), &(l) }

#define list_entry(link, type, member) ((type *)((char *)(link) - offsetof(type, member)))

/* inline helpers */

static inline void list_init(ListLink *l) {
        l->prev = l->next = l;
}

static inline bool list_empty(const ListLink *l) {
        return l->next == l;
}

/* Whether @l (initialized with list_init) is on a list. */
static inline bool list_linked(const ListLink *l) {
        return l->next != l;
}

static inline void list_add_tail(ListLink *head, ListLink *l) {
        l->prev = head->prev;
        l->next = head;
        head->prev->next = l;
        head->prev = l;
}

static inline void list_add_head(ListLink *head, ListLink *l) {
        l->next = head->next;
        l->prev = head;
        head->next->prev = l;
        head->next = l;
}

static inline void list_del(ListLink *l) {
        l->prev->next = l->next;
        l->next->prev = l->prev;
        l->prev = l->next = l;
}

static inline ListLink *list_first(const ListLink *head) {
        return list_empty(head) ? NULL : head->next;
}

static inline ListLink *list_pop(ListLink *head) {
        ListLink *l = list_first(head);
        if (l)
                list_del(l);
        return l;
}
