#ifndef POLAR_IMPL_JSON_CODEC_IPP
#define POLAR_IMPL_JSON_CODEC_IPP

// The JSON codec's implementation: decoding (Boost.JSON DOM) and encoding
// (direct string writing).
#include <polar/impl/json_decode.ipp>
#include <polar/impl/json_encode.ipp>

#endif
