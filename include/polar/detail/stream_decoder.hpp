//
// polar-cpp: the codec moved to detail/codec/; this header forwards to
// <polar/detail/codec/stream_decoder.hpp> for code that still names the old path.
//
#ifndef POLAR_DETAIL_STREAM_DECODER_HPP
#define POLAR_DETAIL_STREAM_DECODER_HPP

#include <polar/detail/codec/stream_decoder.hpp>

#endif
