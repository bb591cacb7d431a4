/*
 * crc64.h — the CRC-64 of RDB files and DUMP payloads ("Jones" polynomial,
 * reflected form 0x95ac9329ac4bc9b5, initial value 0, no final xor), so that
 * files ember writes pass Redis's check and files Redis writes pass ours.
 * crc64("123456789") == 0xe9c6d914c4b8d9ca.
 */
#ifndef EMBER_CRC64_H
#define EMBER_CRC64_H

#include <stddef.h>
#include <stdint.h>

/* Continues a CRC over n more bytes (start with crc = 0). Any thread. */
uint64_t ember__crc64(uint64_t crc, const void *p, size_t n);

#endif
