// Compiled as C++11: the public header works from C++ (extern "C", no C-only syntax).
#include <ember.h>

int ember_header_cxx_probe();
int ember_header_cxx_probe()
{
    ember_db *db = nullptr;
    return ember_db_close(db) + EMBER_OK;
}
