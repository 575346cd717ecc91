//! The activity chart's geometry: one bar per hour, its height the hour's attempts scaled to the
//! busiest hour, the failed share drawn over its foot. Numbers only; the template draws them.

use crate::domain::activity::{HOURS, Hour};

const BAR_WIDTH: u32 = 16;
const GAP: u32 = 4;
const PLOT_HEIGHT: u32 = 100;
const LABEL_HEIGHT: u32 = 16;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bar {
    pub label: String,
    pub attempts: u32,
    pub failures: u32,
    pub x: u32,
    pub y: u32,
    pub height: u32,
    pub failed_y: u32,
    pub failed_height: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tick {
    pub x: u32,
    pub label: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chart {
    pub width: u32,
    pub height: u32,
    pub baseline: u32,
    pub bar_width: u32,
    pub bars: Vec<Bar>,
    pub ticks: Vec<Tick>,
    pub attempts: u32,
    pub failures: u32,
}

/// `part` of `whole` scaled to `PLOT_HEIGHT`, rounded up so that one attempt still shows.
fn scaled(part: u32, whole: u32) -> u32 {
    if whole == 0 {
        return 0;
    }
    (u64::from(part) * u64::from(PLOT_HEIGHT))
        .div_ceil(u64::from(whole))
        .try_into()
        .unwrap_or(PLOT_HEIGHT)
}

/// The chart of `hours`, oldest first (the last is the latest hour).
#[must_use]
pub fn chart(hours: &[Hour; HOURS]) -> Chart {
    let busiest = hours.iter().map(|h| h.attempts).max().unwrap_or(0);
    let step = BAR_WIDTH + GAP;
    let count = u32::try_from(HOURS).unwrap_or(24);
    let bars = (0..count)
        .zip(hours)
        .map(|(index, hour)| {
            let height = scaled(hour.attempts, busiest);
            let failed_height = scaled(hour.failures, busiest).min(height);
            let ago = count - index;
            Bar {
                label: format!("{ago}–{} h ago", ago - 1),
                attempts: hour.attempts,
                failures: hour.failures,
                x: GAP / 2 + index * step,
                y: PLOT_HEIGHT - height,
                height,
                failed_y: PLOT_HEIGHT - failed_height,
                failed_height,
            }
        })
        .collect();
    let ticks = [
        (0, "−24 h"),
        (6, "−18 h"),
        (12, "−12 h"),
        (18, "−6 h"),
        (24, "now"),
    ]
    .into_iter()
    .map(|(at, label)| Tick {
        x: (at * step).clamp(12, count * step - 12),
        label,
    })
    .collect();
    Chart {
        width: count * step,
        height: PLOT_HEIGHT + LABEL_HEIGHT,
        baseline: PLOT_HEIGHT,
        bar_width: BAR_WIDTH,
        bars,
        ticks,
        attempts: hours.iter().map(|h| h.attempts).sum(),
        failures: hours.iter().map(|h| h.failures).sum(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hour(attempts: u32, failures: u32) -> Hour {
        Hour { attempts, failures }
    }

    #[test]
    fn bars_scale_to_the_busiest_hour_and_failures_sit_at_their_foot() {
        let mut hours = [Hour::default(); HOURS];
        hours[23] = hour(10, 5);
        hours[0] = hour(1, 0);
        hours[12] = hour(3, 3);
        let chart = chart(&hours);
        assert_eq!(chart.bars.len(), 24);
        let latest = &chart.bars[23];
        assert_eq!((latest.height, latest.y), (100, 0));
        assert_eq!((latest.failed_height, latest.failed_y), (50, 50));
        assert_eq!(chart.bars[0].height, 10, "one attempt of ten");
        assert_eq!(chart.bars[12].height, chart.bars[12].failed_height);
        assert_eq!(chart.bars[5].height, 0);
        assert_eq!((chart.attempts, chart.failures), (14, 8));
        assert_eq!(chart.bars[0].label, "24–23 h ago");
        assert_eq!(chart.bars[23].label, "1–0 h ago");
        assert!(chart.bars.windows(2).all(|w| w[1].x == w[0].x + 20));
        assert_eq!(chart.width, 480);
    }

    #[test]
    fn a_quiet_day_draws_no_bars() {
        let chart = chart(&[Hour::default(); HOURS]);
        assert!(
            chart
                .bars
                .iter()
                .all(|b| b.height == 0 && b.failed_height == 0)
        );
        assert_eq!(chart.ticks.len(), 5);
        assert!(
            chart
                .ticks
                .iter()
                .all(|t| t.x >= 12 && t.x <= chart.width - 12)
        );
    }
}
