// Request arenas: everything a request context allocates comes from its own
// arena and is released at once when the context ends.
//
// Not compiled on its own: scripts/build-wasm.mjs appends this file to the
// standard library's rt/tcms.ts (whose __new/__renew it renames to
// tcmsNew/tcmsRenew), so it sees the collector's object header.
//
// Why: a request allocates a couple of hundred short-lived objects. Through
// the collector each one is linked into its lists, found again by a sweep and
// freed one by one; in a busy gateway that memory management was about half
// of the engine's time per request, most of it cache misses on scattered
// blocks. An arena bump-allocates from a few reused chunks instead, and the
// whole request goes away with its arena.
//
// Rules that keep this safe (the module follows them in assembly/index.ts):
//  - an arena object has color `transparent` and no list links, so the
//    collector neither traces through it nor frees it;
//  - the collector's heap (plans, the context table) never points into an
//    arena after it is closed;
//  - an arena object may point to collector objects only if something the
//    collector does trace keeps them alive (plans; host buffers the arena
//    owns stay pinned until it closes).

// Chunks are small so that a context waiting on a call holds little: the
// seed auth flow holds two (8 KiB) while its token call is in flight.
// @ts-ignore: decorator
@inline const ARENA_CHUNK: usize = 4096;
/** payloads above this get a block of their own (freed when the arena closes) */
// @ts-ignore: decorator
@inline const ARENA_LARGE: usize = 1024;
/** free chunks kept for the next requests (1 MiB) */
// @ts-ignore: decorator
@inline const ARENA_POOL_MAX: i32 = 256;
/** set by the build (DK_ARENA_POISON=1): closed arenas are overwritten, so a stale pointer shows */
// @ts-ignore: decorator
@inline const ARENA_POISON: bool = false;

@unmanaged class Arena {
  /** where the next object header goes (payloads are 16-byte aligned) */
  cursor: usize;
  end: usize;
  /** chunks in use, linked through their first word */
  chunks: usize;
  /** blocks of large objects, linked the same way */
  large: usize;
  /** host buffers (pinned collector objects) to free with the arena: a list of [next, ptr] cells */
  owned: usize;
  /** bytes taken from chunks and blocks (subtracted from arenaBytesOpen on close) */
  bytes: usize;
}

// @ts-ignore: decorator
@lazy let arenaCurrent: usize = 0;
// @ts-ignore: decorator
@lazy let chunkPool: usize = 0;
// @ts-ignore: decorator
@lazy let chunkPoolCount: i32 = 0;
// @ts-ignore: decorator
@lazy let arenasOpen: i32 = 0;
/** bytes held by open arenas (chunks and large blocks) */
// @ts-ignore: decorator
@lazy let arenaBytesOpen: usize = 0;

/** The header position whose payload (header + TOTAL_OVERHEAD) is the first 16-aligned one at or after `at`. */
// @ts-ignore: decorator
@inline function headerAt(at: usize): usize {
  return ((at + TOTAL_OVERHEAD + 15) & ~<usize>15) - TOTAL_OVERHEAD;
}

function arenaNextChunk(a: Arena): void {
  let c = chunkPool;
  if (c != 0) {
    chunkPool = load<usize>(c);
    chunkPoolCount--;
  } else {
    c = __alloc(ARENA_CHUNK);
  }
  store<usize>(c, a.chunks);
  a.chunks = c;
  a.cursor = headerAt(c + sizeof<usize>());
  a.end = c + ARENA_CHUNK;
  a.bytes += ARENA_CHUNK;
  arenaBytesOpen += ARENA_CHUNK;
}

/** Raw bytes from the arena (no object header), 16-aligned. */
function arenaRaw(a: Arena, size: usize): usize {
  let p = a.cursor + TOTAL_OVERHEAD;
  let next = headerAt(p + size);
  if (next > a.end) {
    arenaNextChunk(a);
    p = a.cursor + TOTAL_OVERHEAD;
    next = headerAt(p + size);
  }
  a.cursor = next;
  return p;
}

function arenaObject(a: Arena, size: usize, id: u32): usize {
  let hdr: usize;
  if (size > ARENA_LARGE) {
    const blk = __alloc(sizeof<usize>() + TOTAL_OVERHEAD + 16 + size);
    store<usize>(blk, a.large);
    a.large = blk;
    a.bytes += size;
    arenaBytesOpen += size;
    hdr = headerAt(blk + sizeof<usize>());
  } else {
    hdr = a.cursor;
    let next = headerAt(hdr + TOTAL_OVERHEAD + size);
    if (next > a.end) {
      arenaNextChunk(a);
      hdr = a.cursor;
      next = headerAt(hdr + TOTAL_OVERHEAD + size);
    }
    a.cursor = next;
  }
  const obj = changetype<Object>(hdr);
  obj.mmInfo = OBJECT_OVERHEAD + size;
  obj.nextWithColor = transparent; // no list, never white: the collector leaves it alone
  obj.prev = changetype<Object>(changetype<usize>(a)); // the owning arena (for __renew)
  obj.rtId = id;
  obj.rtSize = <u32>size;
  return hdr + TOTAL_OVERHEAD;
}

// @ts-ignore: decorator
@inline function isArenaObject(obj: Object): bool {
  return obj.nextWithColor == transparent;
}

// @ts-ignore: decorator
@global @unsafe
export function __new(size: usize, id: i32): usize {
  if (arenaCurrent != 0) {
    if (size > OBJECT_MAXSIZE) throw new Error(E_ALLOCATION_TOO_LARGE);
    return arenaObject(changetype<Arena>(arenaCurrent), size, <u32>id);
  }
  return tcmsNew(size, id);
}

// @ts-ignore: decorator
@global @unsafe
export function __renew(oldPtr: usize, size: usize): usize {
  const old = changetype<Object>(oldPtr - TOTAL_OVERHEAD);
  if (oldPtr < __heap_base || !isArenaObject(old)) return tcmsRenew(oldPtr, size);
  if (size > OBJECT_MAXSIZE) throw new Error(E_ALLOCATION_TOO_LARGE);
  const oldSize = <usize>old.rtSize;
  if (size <= oldSize) {
    old.rtSize = <u32>size;
    return oldPtr;
  }
  const a = changetype<Arena>(changetype<usize>(old.prev));
  // the arena's last object in its current chunk grows in place
  if (oldPtr > a.chunks && oldPtr < a.end && headerAt(oldPtr + oldSize) == a.cursor && size <= ARENA_LARGE) {
    const next = headerAt(oldPtr + size);
    if (next <= a.end) {
      a.cursor = next;
      old.rtSize = <u32>size;
      old.mmInfo = OBJECT_OVERHEAD + size;
      return oldPtr;
    }
  }
  const moved = arenaObject(a, size, old.rtId);
  memory.copy(moved, oldPtr, oldSize);
  return moved;
}

/**
 * Frees a large arena object before its arena closes (a growing buffer's
 * old copy: kept to the end, a writer's growth would hold twice its final
 * size). Anything else, including collector objects, is left alone. The
 * caller guarantees nothing points to it any more.
 */
// @ts-ignore: decorator
@global @unsafe
export function __arena_release(ptr: usize): void {
  if (ptr < __heap_base) return;
  const obj = changetype<Object>(ptr - TOTAL_OVERHEAD);
  if (!isArenaObject(obj) || <usize>obj.rtSize <= ARENA_LARGE) return;
  const a = changetype<Arena>(changetype<usize>(obj.prev));
  let link = changetype<usize>(a) + offsetof<Arena>('large');
  let blk = a.large;
  while (blk != 0) {
    if (headerAt(blk + sizeof<usize>()) + TOTAL_OVERHEAD == ptr) {
      store<usize>(link, load<usize>(blk));
      // the size it was allocated with (a shrinking __renew lowers rtSize only)
      const size = <usize>obj.mmInfo - OBJECT_OVERHEAD;
      a.bytes -= size;
      arenaBytesOpen -= size;
      if (ARENA_POISON) memory.fill(ptr, 0xa5, size);
      __free(blk);
      return;
    }
    link = blk;
    blk = load<usize>(blk);
  }
}

/** Opens an empty arena (its first chunk comes with the first object). */
// @ts-ignore: decorator
@global @unsafe
export function __arena_open(): usize {
  const a = changetype<Arena>(__alloc(offsetof<Arena>()));
  a.cursor = 0;
  a.end = 0;
  a.chunks = 0;
  a.large = 0;
  a.owned = 0;
  a.bytes = 0;
  arenasOpen++;
  return changetype<usize>(a);
}

/** Makes `a` (0: none, the collector's heap) where new objects go; returns the previous one. */
// @ts-ignore: decorator
@global @unsafe
export function __arena_enter(a: usize): usize {
  const prev = arenaCurrent;
  arenaCurrent = a;
  return prev;
}

/** The arena new objects go to (0: the collector's heap). */
// @ts-ignore: decorator
@global @unsafe
export function __arena_current(): usize {
  return arenaCurrent;
}

/** Hands a pinned collector object (a host buffer) to the arena: it is unpinned and freed when the arena closes. */
// @ts-ignore: decorator
@global @unsafe
export function __arena_own(a: usize, ptr: usize): void {
  const cell = arenaRaw(changetype<Arena>(a), 2 * sizeof<usize>());
  store<usize>(cell, changetype<Arena>(a).owned);
  store<usize>(cell, ptr, sizeof<usize>());
  changetype<Arena>(a).owned = cell;
}

/** Frees everything the arena holds; no pointer into it may survive. */
// @ts-ignore: decorator
@global @unsafe
export function __arena_close(ap: usize): void {
  const a = changetype<Arena>(ap);
  if (arenaCurrent == ap) arenaCurrent = 0;
  // owned host buffers: pinned collector objects, unlinked and freed here
  let cell = a.owned;
  while (cell != 0) {
    const ptr = load<usize>(cell, sizeof<usize>());
    const obj = changetype<Object>(ptr - TOTAL_OVERHEAD);
    obj.unlink();
    total -= obj.size;
    __free(changetype<usize>(obj) + BLOCK_OVERHEAD);
    cell = load<usize>(cell);
  }
  let blk = a.large;
  while (blk != 0) {
    const next = load<usize>(blk);
    __free(blk);
    blk = next;
  }
  let c = a.chunks;
  while (c != 0) {
    const next = load<usize>(c);
    if (ARENA_POISON) memory.fill(c + sizeof<usize>(), 0xa5, ARENA_CHUNK - sizeof<usize>());
    if (chunkPoolCount < ARENA_POOL_MAX) {
      store<usize>(c, chunkPool);
      chunkPool = c;
      chunkPoolCount++;
    } else {
      __free(c);
    }
    c = next;
  }
  arenaBytesOpen -= a.bytes;
  __free(ap);
  arenasOpen--;
}

/** Bytes held by open arenas now. */
// @ts-ignore: decorator
@global @unsafe
export function __arena_open_bytes(): usize {
  return arenaBytesOpen;
}

/** Arenas open now (for leak checks). */
// @ts-ignore: decorator
@global @unsafe
export function __arena_count(): i32 {
  return arenasOpen;
}
