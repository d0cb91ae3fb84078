// CZlib: the system's zlib (apt: zlib1g-dev), for inflating the deflated members of wheel archives
// and checking their CRC-32.
#ifndef SIROCCO_CZLIB_SHIM_H
#define SIROCCO_CZLIB_SHIM_H

#include <zlib.h>

/// inflateInit2 is a macro; Swift cannot call it.
static inline int sh_inflate_init_raw(z_stream *stream) {
    return inflateInit2(stream, -MAX_WBITS);
}

#endif
