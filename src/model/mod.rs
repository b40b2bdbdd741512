//! The AMuSE model in tch (Sections III-A…III-E), one file per idea of the paper:
//! [`unimodal`] (III-A), [`man`] (III-B, Eq. 1), [`fusion`] (III-C, Eq. 2 and Eq. 6),
//! [`context`] (III-D), [`loss`] (III-E, Eq. 3–5), assembled in [`amuse`].
pub mod amuse;
pub mod attention;
pub mod batch;
pub mod bilstm;
pub mod calibration;
pub mod checkpoint;
pub mod config;
pub mod context;
pub mod fusion;
pub mod loss;
pub mod man;
pub mod shipped;
pub mod unimodal;
