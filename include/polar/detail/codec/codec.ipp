#ifndef POLAR_DETAIL_CODEC_CODEC_IPP
#define POLAR_DETAIL_CODEC_CODEC_IPP

// The JSON codec's implementation: decoding (the models built from the
// parser's events, detail/codec/stream/) and encoding (direct string writing).
#include <polar/detail/codec/stream/entry.ipp>
#include <polar/detail/codec/encode.ipp>

#endif
