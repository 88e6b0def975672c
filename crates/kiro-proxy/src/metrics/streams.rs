//! The open-streams gauge: one [`StreamGauge`] lives as long as one streamed reply's body.

use prometheus::IntGauge;

/// Counts one open stream; dropping it (the body ended, failed or was abandoned) uncounts it.
#[derive(Debug)]
pub struct StreamGauge(IntGauge);

impl StreamGauge {
    pub(super) fn new(gauge: IntGauge) -> Self {
        gauge.inc();
        StreamGauge(gauge)
    }
}

impl Drop for StreamGauge {
    fn drop(&mut self) {
        self.0.dec();
    }
}
