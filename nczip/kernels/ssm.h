/* The online SSM's recurrent step, block backward pass and Adam (ssm.c): their C interface, bound
 * by ctypes in nczip/kernels/__init__.py (checked by tests/test_kernel_interface.py). dims is the
 * model's int32 shape array (ssm.c, dims_of). */
#ifndef NCZIP_SSM_H
#define NCZIP_SSM_H

#include <stdint.h>

int64_t ssm_record_floats(const int32_t *dims);
int64_t ssm_layer_floats(const int32_t *dims);
int64_t ssm_work_floats(const int32_t *dims, int T);
void ssm_step(const int32_t *dims, float *flat, const float *row, float *conv_state, float *scan_state, float *rec);
void ssm_log_softmax(const int32_t *dims, const float *flat, const float *xf, int k, double *out, double *probs);
double ssm_backward(const int32_t *dims, int T, int classes, const int32_t *targets, float *flat, float *records,
                    const float *conv0, const float *h0, float *grad, int64_t n_flat, float *dX, float *work,
                    double *probs, const int32_t *probs_k);
void ssm_adam(float *data, const float *g, float *m, float *v, int64_t n, double lr, double c1, double c2);
void ssm_adam_rows(float *embed, float *m, float *v, int dm, const int32_t *rows, const float *dX, int T,
                   double lr, double c1, double c2);

#endif
