#ifndef POLAR_IMPL_JSON_CODEC_IPP
#define POLAR_IMPL_JSON_CODEC_IPP

// The JSON codec's implementation: decoding (the models built from the
// parser's events, impl/json_stream/) and encoding (direct string writing).
#include <polar/impl/json_stream/entry.ipp>
#include <polar/impl/json_encode.ipp>

#endif
