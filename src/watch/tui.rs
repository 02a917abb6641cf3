//! The full-screen `--watch` view (ratatui): the same lines as the plain output, coloured, with
//! keys to pause, change the interval, sort, expand queries, scroll and quit.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ratatui::crossterm::event::{self, Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use ratatui::layout::{Constraint, Layout};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use ratatui::DefaultTerminal;
use tokio::sync::mpsc;

use crate::error::{Error, Result};
use crate::units::human_duration;

use super::model::Sample;
use super::text::{sample_lines, LineKind, SortKey, TextOptions};
use super::{InspectOptions, Recorder, Sampler};

/// Intervals the `+` / `-` keys step through.
const INTERVALS_MS: [u64; 9] = [100, 250, 500, 1000, 2000, 5000, 10_000, 30_000, 60_000];

/// What the screen shows besides the sample.
struct ViewState {
    interval: Duration,
    paused: bool,
    sort: SortKey,
    expanded: bool,
    scroll: u16,
    sample: Option<Sample>,
    samples_taken: u64,
    /// Last actions (cancels) and events, kept on screen after their sample is gone.
    log: Vec<String>,
}

/// Runs the full-screen view until `q`, Esc, Ctrl-C or `--count` samples.
pub async fn run(
    sampler: &mut Sampler,
    args: &InspectOptions,
    target: &str,
    mut recorder: Option<&mut Recorder>,
) -> Result<i32> {
    let mut terminal =
        ratatui::try_init().map_err(|err| Error::Usage(format!("cannot start the full-screen view: {err}")))?;
    let (events, stop) = spawn_event_reader();
    let outcome = event_loop(&mut terminal, sampler, args, target, &mut recorder, events).await;
    stop.store(true, Ordering::Relaxed);
    ratatui::restore();
    outcome
}

fn spawn_event_reader() -> (mpsc::UnboundedReceiver<Event>, Arc<AtomicBool>) {
    let (sender, receiver) = mpsc::unbounded_channel();
    let stop = Arc::new(AtomicBool::new(false));
    let stop_reader = Arc::clone(&stop);
    std::thread::spawn(move || {
        while !stop_reader.load(Ordering::Relaxed) {
            match event::poll(Duration::from_millis(100)) {
                Ok(true) => match event::read() {
                    Ok(event) => {
                        if sender.send(event).is_err() {
                            break;
                        }
                    }
                    Err(_) => break,
                },
                Ok(false) => {}
                Err(_) => break,
            }
        }
    });
    (receiver, stop)
}

async fn event_loop(
    terminal: &mut DefaultTerminal,
    sampler: &mut Sampler,
    args: &InspectOptions,
    target: &str,
    recorder: &mut Option<&mut Recorder>,
    mut events: mpsc::UnboundedReceiver<Event>,
) -> Result<i32> {
    let mut state = ViewState {
        interval: args.interval,
        paused: false,
        sort: SortKey::default(),
        expanded: false,
        scroll: 0,
        sample: None,
        samples_taken: 0,
        log: Vec::new(),
    };
    let mut next_sample = Instant::now();
    loop {
        if !state.paused && Instant::now() >= next_sample {
            take_sample(sampler, &mut state, recorder).await?;
            next_sample = Instant::now() + state.interval;
            if args.count.is_some_and(|count| state.samples_taken >= count) {
                draw(terminal, &state, sampler, target)?;
                return Ok(0);
            }
        }
        draw(terminal, &state, sampler, target)?;
        let wait = if state.paused {
            Duration::from_millis(500)
        } else {
            next_sample.saturating_duration_since(Instant::now())
        };
        tokio::select! {
            received = events.recv() => {
                let Some(event) = received else { return Ok(0) };
                if let Event::Key(key) = event {
                    if handle_key(&mut state, key, &mut next_sample) {
                        return Ok(0);
                    }
                }
            }
            _ = tokio::time::sleep(wait) => {}
        }
    }
}

/// Takes one sample (a skipped one if it fails after the first), records it and keeps the last five events.
async fn take_sample(sampler: &mut Sampler, state: &mut ViewState, recorder: &mut Option<&mut Recorder>) -> Result<()> {
    let sample = match sampler.sample().await {
        Ok(sample) => sample,
        Err(err) if state.samples_taken == 0 => return Err(err),
        Err(err) => Sample::skipped(crate::introspect::rfc3339_now(), format!("sample failed: {err}"), 0.0),
    };
    if let Some(recorder) = recorder.as_deref_mut() {
        recorder.write(&sample)?;
    }
    for action in &sample.actions {
        state.log.push(format!("{} {}", sample.sampled_at, action.message));
    }
    for event in &sample.events {
        state.log.push(format!("{} {event}", sample.sampled_at));
    }
    let keep_from = state.log.len().saturating_sub(5);
    state.log.drain(..keep_from);
    state.sample = Some(sample);
    state.samples_taken += 1;
    Ok(())
}

/// Applies one key press to the view; true when it asks to quit.
fn handle_key(state: &mut ViewState, key: KeyEvent, next_sample: &mut Instant) -> bool {
    if key.kind != KeyEventKind::Press {
        return false;
    }
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    match key.code {
        KeyCode::Char('q') | KeyCode::Esc => return true,
        KeyCode::Char('c') if ctrl => return true,
        KeyCode::Char('p') | KeyCode::Char(' ') => {
            state.paused = !state.paused;
            *next_sample = Instant::now() + state.interval;
        }
        KeyCode::Char('+') | KeyCode::Char('=') => {
            state.interval = step_interval(state.interval, 1);
            *next_sample = Instant::now() + state.interval;
        }
        KeyCode::Char('-') => {
            state.interval = step_interval(state.interval, -1);
            *next_sample = Instant::now() + state.interval;
        }
        KeyCode::Char('s') => state.sort = state.sort.next(),
        KeyCode::Char('e') => state.expanded = !state.expanded,
        KeyCode::Char('r') => *next_sample = Instant::now(),
        KeyCode::Down | KeyCode::Char('j') => state.scroll = state.scroll.saturating_add(1),
        KeyCode::Up | KeyCode::Char('k') => state.scroll = state.scroll.saturating_sub(1),
        KeyCode::PageDown => state.scroll = state.scroll.saturating_add(10),
        KeyCode::PageUp => state.scroll = state.scroll.saturating_sub(10),
        KeyCode::Home | KeyCode::Char('g') => state.scroll = 0,
        _ => {}
    }
    false
}

/// The next interval up (`direction` 1) or down (-1) the ladder.
fn step_interval(current: Duration, direction: i32) -> Duration {
    let current_ms = current.as_millis() as u64;
    let at = INTERVALS_MS.iter().position(|ms| *ms >= current_ms).unwrap_or(INTERVALS_MS.len() - 1);
    let next = if direction > 0 {
        if INTERVALS_MS[at] > current_ms {
            at
        } else {
            (at + 1).min(INTERVALS_MS.len() - 1)
        }
    } else {
        at.saturating_sub(1)
    };
    Duration::from_millis(INTERVALS_MS[next])
}

fn style(kind: LineKind) -> Style {
    match kind {
        LineKind::Header => Style::new().add_modifier(Modifier::BOLD),
        LineKind::Section => Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD | Modifier::UNDERLINED),
        LineKind::Alert => Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
        LineKind::Remedy => Style::new().fg(Color::Yellow),
        LineKind::Action => Style::new().fg(Color::Magenta).add_modifier(Modifier::BOLD),
        LineKind::Event | LineKind::Skipped => Style::new().fg(Color::Yellow),
        LineKind::Migration => Style::new().fg(Color::Green).add_modifier(Modifier::BOLD),
        LineKind::Blocker => Style::new().fg(Color::Red),
        LineKind::Dim => Style::new().fg(Color::DarkGray),
        LineKind::Normal => Style::new(),
    }
}

fn draw(terminal: &mut DefaultTerminal, state: &ViewState, sampler: &Sampler, target: &str) -> Result<()> {
    let server = sampler
        .server()
        .map(|server| format!("PostgreSQL {} · {}", server.version, server.database))
        .unwrap_or_default();
    let options =
        TextOptions { query_width: if state.expanded { None } else { Some(60) }, sort: state.sort, session_limit: 50 };
    let body: Vec<Line> = match &state.sample {
        Some(sample) => sample_lines(sample, &options)
            .into_iter()
            .skip(1)
            .map(|(kind, text)| Line::styled(text, style(kind)))
            .collect(),
        None => vec![Line::raw("taking the first sample…")],
    };
    let sample_header = state
        .sample
        .as_ref()
        .map(|sample| sample_lines(sample, &options).into_iter().next().map(|(_, text)| text).unwrap_or_default())
        .unwrap_or_default();
    let status = format!(
        "every {} · sort: {} · queries: {}{}",
        human_duration(state.interval.as_secs_f64()),
        state.sort.label(),
        if state.expanded { "full" } else { "cut" },
        if state.paused { " · PAUSED" } else { "" }
    );
    let log: Vec<Line> = state.log.iter().map(|entry| Line::styled(entry.clone(), style(LineKind::Action))).collect();
    let log_height = log.len() as u16;
    terminal
        .draw(|frame| {
            let [top, status_area, body_area, log_area, keys] = Layout::vertical([
                Constraint::Length(2),
                Constraint::Length(1),
                Constraint::Min(3),
                Constraint::Length(log_height),
                Constraint::Length(1),
            ])
            .areas(frame.area());
            frame.render_widget(
                Paragraph::new(vec![
                    Line::from(vec![
                        Span::styled("lockscope inspect --watch", Style::new().add_modifier(Modifier::BOLD)),
                        Span::raw(format!(" · {target} · {server} · read-only")),
                    ]),
                    Line::styled(sample_header.clone(), style(LineKind::Header)),
                ]),
                top,
            );
            let status_style = if state.paused {
                Style::new().fg(Color::Black).bg(Color::Yellow)
            } else {
                Style::new().fg(Color::DarkGray)
            };
            frame.render_widget(Paragraph::new(Line::styled(status.clone(), status_style)), status_area);
            let mut paragraph = Paragraph::new(body.clone()).scroll((state.scroll, 0));
            if state.expanded {
                paragraph = paragraph.wrap(Wrap { trim: false });
            }
            frame.render_widget(paragraph, body_area);
            frame.render_widget(Paragraph::new(log.clone()), log_area);
            frame.render_widget(
                Paragraph::new(Line::styled(
                    "q quit · p pause · +/- interval · s sort · e expand queries · ↑↓ PgUp PgDn scroll · r refresh",
                    Style::new().fg(Color::Black).bg(Color::Gray),
                )),
                keys,
            );
        })
        .map_err(|err| Error::Output { path: "<terminal>".into(), message: err.to_string() })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interval_keys_walk_the_ladder() {
        let second = Duration::from_secs(1);
        assert_eq!(step_interval(second, 1), Duration::from_secs(2));
        assert_eq!(step_interval(second, -1), Duration::from_millis(500));
        assert_eq!(step_interval(Duration::from_millis(700), 1), Duration::from_secs(1));
        assert_eq!(step_interval(Duration::from_millis(100), -1), Duration::from_millis(100));
        assert_eq!(step_interval(Duration::from_secs(60), 1), Duration::from_secs(60));
        assert_eq!(step_interval(Duration::from_secs(600), -1), Duration::from_secs(30));
    }
}
