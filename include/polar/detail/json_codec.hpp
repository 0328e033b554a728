//
// polar-cpp: the codec moved to detail/codec/; this header forwards to
// <polar/detail/codec/codec.hpp> for code that still names the old path.
//
#ifndef POLAR_DETAIL_JSON_CODEC_HPP
#define POLAR_DETAIL_JSON_CODEC_HPP

#include <polar/detail/codec/codec.hpp>

#endif
