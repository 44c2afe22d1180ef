/* ba.c: ADBench's bundle adjustment objective (examples/gradbench/ba.expr's `ba`), the sum of
   the squares of the 2p reprojection residuals and the p weight residuals, and its gradient
   derived by hand (one reverse sweep per observation, written out). Camera c has 11
   parameters [r1 r2 r3 C1 C2 C3 f u0 v0 k1 k2]; observation i sees point obs_pt[i] from
   camera obs_cam[i] at feats[i] with weight w[i]:
     Xo = X - C, theta = |r|, u = r / theta
     Xcam = Xo cos(theta) + (u x Xo) sin(theta) + u (u . Xo) (1 - cos(theta))   (Rodrigues)
     p = Xcam[0:2] / Xcam[2], L = 1 + k1 |p|^2 + k2 |p|^4
     e = w (p L f + (u0, v0) - feats_i),  we = 1 - w^2
   f = sum_i |e_i|^2 + we_i^2. */
#include "hand.h"

#include <math.h>
#include <string.h>

/* The residuals of one observation: e[0], e[1] and the weight residual (returned). Fills the
   intermediate values the gradient needs when `t` is not NULL. */
struct ba_tape {
  double Xo[3], u[3], cr[3], Xc[3], p[2], d[2], P[2];
  double theta, c, s, it, dot, om, tmp, rsq, L;
};

static inline void ba_forward(const double *cam, const double *X, double w, const double *feat,
                              double *e, struct ba_tape *t) {
  const double *r = cam;
  double Xo[3] = {X[0] - cam[3], X[1] - cam[4], X[2] - cam[5]};
  double theta = sqrt(r[0] * r[0] + r[1] * r[1] + r[2] * r[2]);
  double c = cos(theta), s = sin(theta), it = 1.0 / theta;
  double u[3] = {r[0] * it, r[1] * it, r[2] * it};
  double dot = u[0] * Xo[0] + u[1] * Xo[1] + u[2] * Xo[2];
  double om = 1.0 - c, tmp = dot * om;
  double cr[3] = {u[1] * Xo[2] - u[2] * Xo[1], u[2] * Xo[0] - u[0] * Xo[2], u[0] * Xo[1] - u[1] * Xo[0]};
  double Xc[3];
  for (int j = 0; j < 3; ++j)
    Xc[j] = Xo[j] * c + cr[j] * s + u[j] * tmp;
  double p0 = Xc[0] / Xc[2], p1 = Xc[1] / Xc[2];
  double rsq = p0 * p0 + p1 * p1;
  double L = 1.0 + cam[9] * rsq + cam[10] * rsq * rsq;
  double d0 = p0 * L, d1 = p1 * L;
  double P0 = d0 * cam[6] + cam[7], P1 = d1 * cam[6] + cam[8];
  e[0] = w * (P0 - feat[0]);
  e[1] = w * (P1 - feat[1]);
  if (t) {
    for (int j = 0; j < 3; ++j) {
      t->Xo[j] = Xo[j];
      t->u[j] = u[j];
      t->cr[j] = cr[j];
      t->Xc[j] = Xc[j];
    }
    t->p[0] = p0, t->p[1] = p1, t->d[0] = d0, t->d[1] = d1, t->P[0] = P0, t->P[1] = P1;
    t->theta = theta, t->c = c, t->s = s, t->it = it, t->dot = dot, t->om = om, t->tmp = tmp;
    t->rsq = rsq, t->L = L;
  }
}

double hand_ba(int64_t n, int64_t m, int64_t p, const double *cams, const double *X,
               const double *w, const int32_t *obs_cam, const int32_t *obs_pt,
               const double *feats) {
  (void)n, (void)m;
  double f = 0;
  for (int64_t i = 0; i < p; ++i) {
    double e[2];
    ba_forward(cams + 11 * (int64_t)obs_cam[i], X + 3 * (int64_t)obs_pt[i], w[i], feats + 2 * i, e, NULL);
    double we = 1.0 - w[i] * w[i];
    f += e[0] * e[0] + e[1] * e[1] + we * we;
  }
  return f;
}

double hand_ba_grad(int64_t n, int64_t m, int64_t p, const double *cams, const double *X,
                    const double *w, const int32_t *obs_cam, const int32_t *obs_pt,
                    const double *feats, double *d_cams, double *d_X, double *d_w) {
  memset(d_cams, 0, sizeof(double) * (size_t)(11 * n));
  memset(d_X, 0, sizeof(double) * (size_t)(3 * m));
  double f = 0;
  for (int64_t i = 0; i < p; ++i) {
    const double *cam = cams + 11 * (int64_t)obs_cam[i];
    double *gcam = d_cams + 11 * (int64_t)obs_cam[i];
    double *gXpt = d_X + 3 * (int64_t)obs_pt[i];
    const double *feat = feats + 2 * i;
    double wi = w[i], e[2];
    struct ba_tape t;
    ba_forward(cam, X + 3 * (int64_t)obs_pt[i], wi, feat, e, &t);
    double we = 1.0 - wi * wi;
    f += e[0] * e[0] + e[1] * e[1] + we * we;

    /* Reverse sweep. */
    double ge0 = 2 * e[0], ge1 = 2 * e[1], gwe = 2 * we;
    d_w[i] = ge0 * (t.P[0] - feat[0]) + ge1 * (t.P[1] - feat[1]) - 2 * wi * gwe;
    double gP0 = ge0 * wi, gP1 = ge1 * wi;
    gcam[6] += gP0 * t.d[0] + gP1 * t.d[1]; /* f */
    gcam[7] += gP0;                         /* u0 */
    gcam[8] += gP1;                         /* v0 */
    double gd0 = gP0 * cam[6], gd1 = gP1 * cam[6];
    double gL = gd0 * t.p[0] + gd1 * t.p[1];
    gcam[9] += gL * t.rsq;
    gcam[10] += gL * t.rsq * t.rsq;
    double grsq = gL * (cam[9] + 2 * cam[10] * t.rsq);
    double gp0 = gd0 * t.L + 2 * t.p[0] * grsq, gp1 = gd1 * t.L + 2 * t.p[1] * grsq;
    double iz = 1.0 / t.Xc[2];
    double gXc[3] = {gp0 * iz, gp1 * iz, -(gp0 * t.p[0] + gp1 * t.p[1]) * iz};
    /* Xc = Xo c + cr s + u tmp */
    double gc = 0, gs = 0, gtmp = 0, gXo[3], gcr[3], gu[3];
    for (int j = 0; j < 3; ++j) {
      gc += gXc[j] * t.Xo[j];
      gs += gXc[j] * t.cr[j];
      gtmp += gXc[j] * t.u[j];
      gXo[j] = gXc[j] * t.c;
      gcr[j] = gXc[j] * t.s;
      gu[j] = gXc[j] * t.tmp;
    }
    /* cr = u x Xo: d/du = Xo x gcr, d/dXo = gcr x u */
    gu[0] += t.Xo[1] * gcr[2] - t.Xo[2] * gcr[1];
    gu[1] += t.Xo[2] * gcr[0] - t.Xo[0] * gcr[2];
    gu[2] += t.Xo[0] * gcr[1] - t.Xo[1] * gcr[0];
    gXo[0] += gcr[1] * t.u[2] - gcr[2] * t.u[1];
    gXo[1] += gcr[2] * t.u[0] - gcr[0] * t.u[2];
    gXo[2] += gcr[0] * t.u[1] - gcr[1] * t.u[0];
    /* tmp = dot (1 - c), dot = u . Xo */
    double gdot = gtmp * t.om;
    gc -= gtmp * t.dot;
    for (int j = 0; j < 3; ++j) {
      gu[j] += gdot * t.Xo[j];
      gXo[j] += gdot * t.u[j];
    }
    /* c = cos(theta), s = sin(theta), u = r / theta, theta = |r| */
    double gtheta = -t.s * gc + t.c * gs;
    double git = gu[0] * cam[0] + gu[1] * cam[1] + gu[2] * cam[2];
    gtheta -= git * t.it * t.it;
    double gr = gtheta * t.it; /* d theta / d r = r / theta */
    for (int j = 0; j < 3; ++j) {
      gcam[j] += gu[j] * t.it + gr * cam[j];
      gcam[3 + j] -= gXo[j]; /* Xo = X - C */
      gXpt[j] += gXo[j];
    }
  }
  return f;
}
