// Small-block cache in front of AssemblyScript's TLSF allocator.
//
// Not compiled on its own: scripts/build-wasm.mjs appends this file to the
// standard library's rt/tlsf.ts (whose __alloc/__realloc/__free it renames to
// tlsfAlloc/tlsfRealloc/tlsfFree), so it sees TLSF's internals.
//
// Why: a request allocates a few hundred short-lived small objects (JSON
// values, strings, arrays). TLSF's alloc (search, remove, split, insert) and
// free (insert, coalesce) were about a quarter of the engine's time per
// request. Blocks up to SMALL_MAX bytes now go to exact-size LIFO free lists
// instead: alloc pops, free pushes. Such blocks stay "used" from TLSF's view
// (never coalesced), so memory holds the peak small-object working set, which
// is reused request after request.

// @ts-ignore: decorator
@inline const SMALL_CLASSES: usize = 64;
/** largest block payload served from the lists (class 63: 63 * 16 - 4 bytes) */
// @ts-ignore: decorator
@inline const SMALL_MAX: usize = (SMALL_CLASSES - 1) * AL_SIZE - BLOCK_OVERHEAD;
/** one list head per class; a free block's first word links to the next */
// @ts-ignore: decorator
@lazy const smallHeads: usize = memory.data(<i32>(SMALL_CLASSES * sizeof<usize>()), 16);

/** TLSF block sizes are 16n - 4: the class of a block size */
// @ts-ignore: decorator
@inline function smallClass(blockSize: usize): usize {
  return (blockSize + BLOCK_OVERHEAD) >> AL_BITS;
}

// @ts-ignore: decorator
@global @unsafe
export function __alloc(size: usize): usize {
  if (size <= SMALL_MAX) {
    const head = smallHeads + (smallClass(computeSize(size)) << alignof<usize>());
    const ptr = load<usize>(head);
    if (ptr != 0) {
      store<usize>(head, load<usize>(ptr));
      return ptr;
    }
  }
  return tlsfAlloc(size);
}

// @ts-ignore: decorator
@global @unsafe
export function __free(ptr: usize): void {
  if (ptr < __heap_base) return;
  const blockSize = changetype<Block>(ptr - BLOCK_OVERHEAD).mmInfo & ~TAGS_MASK;
  if (blockSize <= SMALL_MAX) {
    const head = smallHeads + (smallClass(blockSize) << alignof<usize>());
    store<usize>(ptr, load<usize>(head));
    store<usize>(head, ptr);
    return;
  }
  tlsfFree(ptr);
}

// @ts-ignore: decorator
@global @unsafe
export function __realloc(ptr: usize, size: usize): usize {
  if (ptr >= __heap_base) {
    const blockSize = changetype<Block>(ptr - BLOCK_OVERHEAD).mmInfo & ~TAGS_MASK;
    if (blockSize <= SMALL_MAX) {
      // a cached-size block never grows in place: fits, or move
      if (size <= blockSize) return ptr;
      const moved = __alloc(size);
      memory.copy(moved, ptr, blockSize);
      __free(ptr);
      return moved;
    }
  }
  return tlsfRealloc(ptr, size);
}
