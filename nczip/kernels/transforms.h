/* Reversible byte transforms applied before a model codes a chunk (transforms.c): their C
 * interface, bound by ctypes in nczip/kernels/__init__.py (checked by
 * tests/test_kernel_interface.py). */
#ifndef NCZIP_TRANSFORMS_H
#define NCZIP_TRANSFORMS_H

#include <stdint.h>

int64_t nc_x86_count(const uint8_t *buf, int64_t n);
void nc_x86_forward(uint8_t *buf, int64_t n);
void nc_x86_inverse(uint8_t *buf, int64_t n);

#endif
