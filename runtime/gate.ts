/**
 * The semaphore in front of the upstream API: at most `capacity` holders, the rest wait in a
 * bounded FIFO queue.
 *
 * Hand-written rather than p-limit because p-limit cannot bound its queue, cannot take a
 * cancelled waiter out of its queue (an aborted call would still hold its place until its turn)
 * and cannot pause dispatch after a 429. It is a doubly linked list so leaving is O(1).
 */
import { LlmOverloadedError, LlmQueueFullError, LlmRateLimitedError } from "./errors.js";

export type Release = () => void;

/**
 * A place in the queue. While waiting, the gate sets `leave`: calling it takes the waiter out at
 * once and rejects its acquire with `reason`. (A callback, not an AbortSignal, because a signal
 * per queued call costs several times the rest of the queue entry.)
 */
export interface QueueTicket {
  leave?: ((reason: unknown) => void) | undefined;
  /** When the call's deadline passes (epoch ms): a pause that outlasts it fails the call at once. */
  readonly deadlineAt: number;
}

export interface AcquireOptions {
  ticket: QueueTicket;
  /** Go to the head of the queue (a call coming back for a retry) and ignore the queue bound. */
  front?: boolean;
  /** Never queue: fail fast with LlmOverloadedError when no slot is free (EMERGENCY_MODE). */
  shed?: boolean;
}

interface Waiter {
  prev: Waiter | undefined;
  next: Waiter | undefined;
  resolve: (release: Release) => void;
  reject: (err: unknown) => void;
  ticket: QueueTicket;
}

export class Gate {
  inFlight = 0;
  queued = 0;
  private head: Waiter | undefined;
  private tail: Waiter | undefined;
  private pausedUntil = 0;
  private pauseTimer: ReturnType<typeof setTimeout> | undefined;
  private closedWith: (() => Error) | undefined;
  private idleWaiters: Array<() => void> = [];

  /** Slots; the limit algorithm moves it (setCapacity), a fixed LLM_POOL_SIZE never does. */
  capacity: number;
  readonly maxQueue: number;
  /** How long a call typically takes upstream, in ms (0 when unknown). */
  private readonly typicalCallMs: () => number;

  constructor(capacity: number, maxQueue: number, typicalCallMs: () => number) {
    this.capacity = capacity;
    this.maxQueue = maxQueue;
    this.typicalCallMs = typicalCallMs;
  }

  /** Rough wait a rejected caller should leave before trying again: about one call, at least 1 s. */
  private suggestRetryAfterMs(): number {
    return Math.max(1000, Math.ceil(this.typicalCallMs()));
  }

  /** A pause the call could not outlive: it would only be served after (or too near) its deadline. */
  private outlastedByPause(ticket: QueueTicket, until: number): boolean {
    return until + this.typicalCallMs() >= ticket.deadlineAt;
  }

  /**
   * A slot right now, or undefined. Synchronous so the uncontended path costs no promise. Its
   * release is one function shared by every such slot (no closure per call): the caller must call
   * it once only, as GatedCall.releaseSlot does.
   */
  tryAcquire(): Release | undefined {
    if (this.closedWith || this.inFlight >= this.capacity || this.head || this.isPaused()) return undefined;
    this.inFlight++;
    return this.releaseOnce;
  }

  private readonly releaseOnce: Release = () => {
    this.inFlight--;
    this.dispatch();
  };

  acquire(options: AcquireOptions): Promise<Release> {
    if (this.closedWith) return Promise.reject(this.closedWith());
    if (this.inFlight < this.capacity && !this.isPaused() && (!this.head || options.front)) {
      this.inFlight++;
      return Promise.resolve(this.makeRelease());
    }
    if (this.isPaused() && this.outlastedByPause(options.ticket, this.pausedUntil)) {
      return Promise.reject(new LlmRateLimitedError({ retryAfterMs: this.pauseRemainingMs() }));
    }
    if (options.shed) {
      return Promise.reject(new LlmOverloadedError({ retryAfterMs: Math.max(this.pauseRemainingMs(), this.suggestRetryAfterMs()) }));
    }
    if (!options.front && this.queued >= this.maxQueue) {
      return Promise.reject(
        new LlmQueueFullError({ maxQueue: this.maxQueue, retryAfterMs: Math.max(this.pauseRemainingMs(), this.suggestRetryAfterMs()) }),
      );
    }
    return new Promise<Release>((resolve, reject) => {
      const waiter: Waiter = { prev: undefined, next: undefined, resolve, reject, ticket: options.ticket };
      options.ticket.leave = (reason: unknown) => {
        this.unlink(waiter);
        reject(reason);
      };
      this.link(waiter, options.front === true);
    });
  }

  /** After a 429: nobody gets a slot until `ms` from now, so queued calls wait out the same pause. */
  pause(ms: number): void {
    this.pauseUntil(Date.now() + ms);
  }

  /**
   * Pause dispatch until `until` (epoch ms; a later pause extends it, an earlier one is ignored).
   * Queued calls whose deadline comes first fail now with LlmRateLimitedError: waiting would
   * only turn them into timeouts at their deadline.
   */
  pauseUntil(until: number): void {
    if (until <= this.pausedUntil) return;
    this.pausedUntil = until;
    if (this.pauseTimer) clearTimeout(this.pauseTimer);
    this.pauseTimer = setTimeout(() => {
      // The timer clock and Date.now() may disagree by a millisecond: the timer decides.
      this.pauseTimer = undefined;
      this.pausedUntil = 0;
      this.dispatch();
    }, Math.max(0, Math.ceil(until - Date.now())));
    unrefTimer(this.pauseTimer);
    for (let waiter = this.head; waiter; ) {
      const next = waiter.next;
      if (this.outlastedByPause(waiter.ticket, until)) {
        this.unlink(waiter);
        waiter.reject(new LlmRateLimitedError({ retryAfterMs: until - Date.now() }));
      }
      waiter = next;
    }
  }

  /** A new limit from the limit algorithm; a raised one hands out the new slots at once. */
  setCapacity(capacity: number): void {
    const raised = capacity > this.capacity;
    this.capacity = capacity;
    if (raised) this.dispatch();
  }

  pauseRemainingMs(): number {
    return Math.max(0, this.pausedUntil - Date.now());
  }

  /** Stop taking calls: every queued waiter and every later acquire rejects with `makeError()`. */
  close(makeError: () => Error): void {
    this.closedWith = makeError;
    while (this.head) {
      const waiter = this.head;
      this.unlink(waiter);
      waiter.reject(makeError());
    }
  }

  /** Resolves once nothing holds a slot. */
  idle(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private isPaused(): boolean {
    return this.pausedUntil !== 0 && this.pausedUntil > Date.now();
  }

  private makeRelease(): Release {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.inFlight--;
      this.dispatch();
    };
  }

  private dispatch(): void {
    while (this.head && this.inFlight < this.capacity && !this.isPaused()) {
      const waiter = this.head;
      this.unlink(waiter);
      this.inFlight++;
      waiter.resolve(this.makeRelease());
    }
    if (this.inFlight === 0 && this.idleWaiters.length > 0) {
      const waiting = this.idleWaiters;
      this.idleWaiters = [];
      for (const resolve of waiting) resolve();
    }
  }

  private link(waiter: Waiter, atFront: boolean): void {
    if (atFront) {
      waiter.next = this.head;
      if (this.head) this.head.prev = waiter;
      else this.tail = waiter;
      this.head = waiter;
    } else {
      waiter.prev = this.tail;
      if (this.tail) this.tail.next = waiter;
      else this.head = waiter;
      this.tail = waiter;
    }
    this.queued++;
  }

  private unlink(waiter: Waiter): void {
    waiter.ticket.leave = undefined;
    if (waiter.prev) waiter.prev.next = waiter.next;
    else if (this.head === waiter) this.head = waiter.next;
    else return; // already out of the queue
    if (waiter.next) waiter.next.prev = waiter.prev;
    else this.tail = waiter.prev;
    waiter.prev = waiter.next = undefined;
    this.queued--;
  }
}

/** Timers of the runtime must never keep the user's process alive. */
export function unrefTimer(timer: unknown): void {
  (timer as { unref?: () => void }).unref?.();
}
