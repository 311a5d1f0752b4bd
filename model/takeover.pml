/* Takeover protocol of DESIGN.md §4 for one backend connection C and two threads.
   Each thread's JS handlers run to completion, so a thread's own step is atomic with
   respect to itself; other threads interleave between steps. Locks guard the idle lists
   and the tasklet contexts. USR1 belongs to each thread's tasklet, not to C.

   Extends shared/reference/takeover.pml with:
   - rule 5, push: a thread whose request ends hands C straight to the other thread, without
     listing it (no lock: an unlisted C with USR1 clear is reachable by nobody else);
   - purge: the owner takes C out of its idle list under its lock and closes it afterwards;
   - lost: a victim whose stolen C hit EOF closes it instead of handing it over (DESIGN §4.5).

   Variants (-D to spin), each expected to FAIL, so the check is known to bite:
   - BREAK_RULE1: the thief clears the victim's USR1 while stealing: the victim's next wake-up
     takes the fast path on a stolen connection.
   - BREAK_RULE3: the thief steals without the victim's lock.

   Check: spin -a takeover.pml && gcc -O2 -o pan pan.c && ./pan -m200000 */
#define NT 2
#define NONE 255
#define TRANSIT 254
bit  inList[NT];        /* C sits in thread t's idle list */
bit  usr1[NT];          /* TASK_F_USR1 of thread t's tasklet for C */
byte ctx[NT];           /* thread t's tasklet: 0 = context NULL (stolen), 1 = valid, NONE = no tasklet */
byte gen[NT];           /* generation of thread t's current tasklet for C */
byte nextgen = 1;
bit  busy[NT];          /* a request is attached to C on thread t */
byte owner = 0;         /* logical owner (the thread whose tasklet context is valid) */
byte handle = 0;        /* who holds the socket handle, or TRANSIT */
bit  lock[NT];
bit  closed = 0;
chan wake[NT] = [1] of { byte };   /* "hand C over" for tasklet generation g (tasklet_wakeup_on) */
chan xfer[NT] = [1] of { byte };   /* the TCP handle travelling to thread t */

inline acquire(t) { atomic { lock[t] == 0 -> lock[t] = 1 } }
inline release(t) { lock[t] = 0 }

#ifdef BREAK_RULE1
#define THIEF_TOUCHES_USR1(t) usr1[t] = 0
#else
#define THIEF_TOUCHES_USR1(t) skip
#endif

#ifdef BREAK_RULE3
#define STEAL_LOCK_FREE(t) true
#define STEAL_TAKE_LOCK(t) skip
#define STEAL_DROP_LOCK(t) skip
#else
#define STEAL_LOCK_FREE(t) lock[t] == 0
#define STEAL_TAKE_LOCK(t) lock[t] = 1
#define STEAL_DROP_LOCK(t) release(t)
#endif

/* the stolen branch of a wake-up: hand the handle to the owner recorded by the thief, or, if
   the socket hit EOF meanwhile, close it (the thief learns it was lost and retries elsewhere) */
inline handoff(me) {
  assert(handle == me);
  if
  :: handle = TRANSIT; xfer[owner] ! me
  :: closed = 1
  fi;
  ctx[me] = NONE; usr1[me] = 0
}

proctype Thread(byte me) {
  byte other = 1 - me;
  bit was, purging;
  byte g;
  do
  :: closed -> break
  /* purge, second half: close C after taking it out of the list (outside the lock) */
  :: atomic { !closed && purging -> assert(handle == me && owner == me && !inList[me] && !busy[me]);
       closed = 1 }
  /* take C from my own idle list and attach a request to it */
  :: atomic { !closed && lock[me] == 0 && inList[me] -> lock[me] = 1 }
     inList[me] = 0; release(me);
     assert(owner == me && handle == me && ctx[me] == 1);
     usr1[me] = 0; busy[me] = 1
  /* the request ends: mark USR1, then insert into my idle list (detach) */
  :: atomic { !closed && busy[me] -> usr1[me] = 1 }
     acquire(me); inList[me] = 1; busy[me] = 0; release(me)
  /* rule 5, push: the request ends and C goes straight to the other thread, never listed; my
     tasklet is gone at once, the other adopts C with a fresh one */
  :: atomic { !closed && busy[me] ->
       assert(usr1[me] == 0 && !inList[me] && handle == me);
       busy[me] = 0; owner = other; handle = TRANSIT; xfer[other] ! me;
       ctx[me] = NONE }
  /* purge, first half: the owner takes its longest idle C out of its list under its lock */
  :: atomic { !closed && !purging && lock[me] == 0 && inList[me] -> lock[me] = 1 }
     assert(owner == me && handle == me && ctx[me] == 1 && usr1[me] == 1);
     inList[me] = 0; purging = 1; release(me)
  /* an I/O wake-up on my socket (only while I hold the handle and have a tasklet) */
  :: atomic { !closed && handle == me && ctx[me] != NONE ->
       if
       :: usr1[me] == 0 -> assert(owner == me && ctx[me] == 1 && inList[me] == 0)  /* fast path */
       :: else -> skip
       fi }
     if
     :: usr1[me] == 1 ->
        acquire(me);
        if
        :: ctx[me] == 0 -> handoff(me); release(me)
        :: else -> was = inList[me]; inList[me] = 0; release(me);
           /* process the event: it may be EOF on an idle connection, which closes C */
           if
           :: was && !busy[me] -> closed = 1
           :: was -> acquire(me); inList[me] = 1; release(me)
           :: else -> skip
           fi
        fi
     :: else -> skip
     fi
  /* steal C from the other thread: try-lock, skip if busy */
  :: atomic { !closed && !busy[me] && STEAL_LOCK_FREE(other) && inList[other] -> STEAL_TAKE_LOCK(other) }
     inList[other] = 0; ctx[other] = 0; THIEF_TOUCHES_USR1(other); owner = me; g = gen[other];
     STEAL_DROP_LOCK(other);
     wake[other] ! g
  /* a wake message: the thief asks me to hand C over */
  :: wake[me] ? g ->
     if
     :: ctx[me] == NONE || gen[me] != g -> skip   /* that tasklet is gone: handed over on an I/O wake-up */
     :: else -> assert(usr1[me] == 1); acquire(me);
        if
        :: ctx[me] == 0 -> handoff(me)
        :: else -> skip
        fi;
        release(me)
     fi
  /* the handle arrives: adopt it with a fresh tasklet (no USR1) and attach a request */
  :: xfer[me] ? _ ->
     assert(owner == me && handle == TRANSIT);
     handle = me; ctx[me] = 1; usr1[me] = 0; busy[me] = 1;
     /* 7 generations stand for 2^32: a wake still queued for me never names a reused one */
     do
     :: wake[me] ? [nextgen] -> nextgen = (nextgen % 7) + 1
     :: else -> break
     od;
     gen[me] = nextgen; nextgen = (nextgen % 7) + 1
  od
}

/* invariants checked in every state */
proctype Monitor() {
  do
  :: atomic {
       assert(inList[0] + inList[1] <= 1);
       assert(!inList[0] || (owner == 0 && usr1[0] && ctx[0] == 1 && handle == 0));
       assert(!inList[1] || (owner == 1 && usr1[1] && ctx[1] == 1 && handle == 1));
       assert(!busy[0] || (owner == 0 && handle == 0));
       assert(!busy[1] || (owner == 1 && handle == 1));
       assert(busy[0] + busy[1] <= 1)
     }
  od
}

init {
  ctx[0] = 1; ctx[1] = NONE; busy[0] = 1; gen[0] = 1; nextgen = 2;
  atomic { run Thread(0); run Thread(1); run Monitor() }
}
