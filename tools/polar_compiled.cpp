// The one TU of the separate-compilation build: Asio, Beast, OpenSSL glue,
// Boost.JSON and every polar implementation file.
#include <polar/src.hpp>
