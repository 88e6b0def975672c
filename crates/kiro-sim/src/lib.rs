//! kiro-sim: a simulator of the Kiro upstream.
