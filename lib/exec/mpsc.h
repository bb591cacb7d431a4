/*
 * mpsc.h — intrusive multi-producer single-consumer queue (Vyukov's design).
 *
 * Contract: any number of producers may push concurrently; exactly one
 * consumer pops. push is wait-free: one atomic exchange plus one store.
 * Nodes are owned by the caller and must stay alive until popped.
 *
 * The window: between a producer's exchange and its store of prev->next, the
 * list is cut; a consumer reaching the cut sees EM_MPSC_STALL. It must not
 * spin forever on one producer that was preempted there; the executor counts
 * stalls, relaxes briefly and then yields its CPU so the preempted producer
 * can finish (bench_core reports how often this happens).
 */
#ifndef EMBER_MPSC_H
#define EMBER_MPSC_H

#include <stdatomic.h>
#include <stddef.h>

#include "../common/common.h"

typedef struct em_mpsc_node {
    _Atomic(struct em_mpsc_node *) next;
} em_mpsc_node;

typedef struct em_mpsc {
    /* Producers hammer head; the consumer owns tail: separate cache lines. */
    _Atomic(em_mpsc_node *) head EM_ALIGNED_CL;
    em_mpsc_node *tail EM_ALIGNED_CL;
    em_mpsc_node stub;
} em_mpsc;

#define EM_MPSC_STALL ((em_mpsc_node *)1)

static inline void ember__mpsc_init(em_mpsc *q)
{
    atomic_init(&q->stub.next, NULL);
    atomic_init(&q->head, &q->stub);
    q->tail = &q->stub;
}

static inline void ember__mpsc_push(em_mpsc *q, em_mpsc_node *n)
{
    atomic_store_explicit(&n->next, NULL, memory_order_relaxed);
    /* seq_cst: this exchange is the producer's half of the park/wake
     * handshake (see executor.c); it also publishes n's contents. */
    em_mpsc_node *prev = atomic_exchange_explicit(&q->head, n, memory_order_seq_cst);
    /* Publishes the link: the consumer acquires it in pop. */
    atomic_store_explicit(&prev->next, n, memory_order_release);
}

/* Returns a node, NULL when empty, or EM_MPSC_STALL when a push is midway. */
static inline em_mpsc_node *ember__mpsc_pop(em_mpsc *q)
{
    em_mpsc_node *tail = q->tail;
    em_mpsc_node *next = atomic_load_explicit(&tail->next, memory_order_acquire);
    if (tail == &q->stub) {
        if (!next)
            return atomic_load_explicit(&q->head, memory_order_acquire) == &q->stub ? NULL
                                                                                    : EM_MPSC_STALL;
        q->tail = next;
        tail = next;
        next = atomic_load_explicit(&next->next, memory_order_acquire);
    }
    if (next) {
        q->tail = next;
        return tail;
    }
    if (tail != atomic_load_explicit(&q->head, memory_order_acquire))
        return EM_MPSC_STALL;
    /* tail is the last node: put the stub behind it so tail can be handed out. */
    ember__mpsc_push(q, &q->stub);
    next = atomic_load_explicit(&tail->next, memory_order_acquire);
    if (next) {
        q->tail = next;
        return tail;
    }
    return EM_MPSC_STALL;
}

/* Consumer only: 1 if nothing is queued or being queued. seq_cst load: the
 * consumer's half of the park/wake handshake. */
static inline int ember__mpsc_idle(em_mpsc *q)
{
    return q->tail == &q->stub && atomic_load_explicit(&q->head, memory_order_seq_cst) == &q->stub;
}

#endif
