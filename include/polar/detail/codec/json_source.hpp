#ifndef POLAR_DETAIL_CODEC_JSON_SOURCE_HPP
#define POLAR_DETAIL_CODEC_JSON_SOURCE_HPP

// Boost.JSON has no header-only switch: its sources must be compiled into
// exactly one TU of a program. In header-only mode polar does this for you.
// A program with several TUs that include polar (or one that links
// libboost_json) defines POLAR_NO_BOOST_JSON_SOURCE in all TUs but one
// (or in all of them, respectively).
#include <polar/detail/config.hpp>

#if defined(POLAR_HEADER_ONLY) && !defined(POLAR_NO_BOOST_JSON_SOURCE)
#include <boost/json/src.hpp>
#endif

#endif
