// SPDX-License-Identifier: MIT
// Boost.JSON's implementation, compiled into the service (its header-only mode): Debian's
// libboost1.81-dev has the headers, and no libboost_json needs to be linked.
#include <boost/json/src.hpp>
