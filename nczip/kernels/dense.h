/* The per-token passes over a whole vocabulary (dense.c) and the kernels' exp/log and Gaussian
 * deviates: their C interface, bound by ctypes in nczip/kernels/__init__.py (checked by
 * tests/test_kernel_interface.py). */
#ifndef NCZIP_DENSE_H
#define NCZIP_DENSE_H

#include <stdint.h>

double nc_dot(const double *a, const double *b, int64_t n);
double nc_softmax(const double *L, int64_t n, double tau, double *out);
void nc_scale_bias(double *q, int64_t n, double scale, const double *exp_bias);
void nc_bias_update(double *exp_bias, const double *q, int64_t n, double rate, int64_t token);
double nc_quantize(const double *p, int64_t n, int version, int64_t *freqs, int64_t *starts);
double nc_log_softmax_f32(const float *L, int64_t n, const uint8_t *codable, double *out);
void nc_exp_array(const double *x, int64_t n, double *out);
void nc_log_array(const double *x, int64_t n, double *out);
double nc_exp_scalar(double x);
double nc_log_scalar(double x);
int64_t nc_polar_gauss(const double *u, int64_t n_u, double *out, int64_t n_out, int64_t *filled);

#endif
