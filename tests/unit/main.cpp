// Entry point of the unit test binary; each tests/unit/*_test.cpp holds the tests of one module.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
