//! One thread's buffers for scoring a reader ([`super::Selector::select`]): dense arrays
//! over the candidates, reused from reader to reader and cleaned through the list of what
//! was touched, so that scoring allocates nothing per paper.

/// One thread's scores and marks for the reader being selected for.
#[derive(Debug, Default)]
pub(crate) struct Scratch {
    /// Relevance per candidate.
    pub(crate) rel: Vec<f64>,
    /// Per candidate: 0 untouched, [`TOUCHED`], [`BLOCKED`] (excluded or already sent).
    pub(crate) state: Vec<u8>,
    /// Candidates scored, in the order first touched.
    pub(crate) touched: Vec<u32>,
    /// Candidates blocked.
    pub(crate) blocked: Vec<u32>,
    pub(crate) ranked: Vec<(f64, u32)>,
}

const TOUCHED: u8 = 1;
const BLOCKED: u8 = 2;

impl Scratch {
    /// Clears what the last reader left (possibly of another selector) and fits `n` candidates.
    pub(crate) fn reset(&mut self, n: usize) {
        for &i in self.touched.iter().chain(&self.blocked) {
            self.rel[i as usize] = 0.0;
            self.state[i as usize] = 0;
        }
        self.touched.clear();
        self.blocked.clear();
        if self.rel.len() < n {
            self.rel.resize(n, 0.0);
            self.state.resize(n, 0);
        }
    }

    #[inline]
    pub(crate) fn block(&mut self, paper: u32) {
        let state = &mut self.state[paper as usize];
        if *state != BLOCKED {
            if *state == TOUCHED {
                self.touched.retain(|&p| p != paper);
            }
            *state = BLOCKED;
            self.blocked.push(paper);
        }
    }

    #[inline]
    pub(crate) fn is_blocked(&self, paper: u32) -> bool {
        self.state[paper as usize] == BLOCKED
    }

    #[inline]
    pub(crate) fn add(&mut self, paper: u32, score: f64) {
        let i = paper as usize;
        match self.state[i] {
            BLOCKED => {}
            TOUCHED => self.rel[i] += score,
            _ => {
                self.state[i] = TOUCHED;
                self.touched.push(paper);
                self.rel[i] += score;
            }
        }
    }
}

thread_local! {
    pub(crate) static SCRATCH: std::cell::RefCell<Scratch> = std::cell::RefCell::default();
}
