// The one TU of the program that compiles polar-cpp (and Asio, Beast, JSON).
#include <polar/src.hpp>
