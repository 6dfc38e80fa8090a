//! Work split over the machine's cores for the parts of a run that are the same for every
//! item (papers to match, descriptions to score, readers to select for). Hand-written on
//! `std::thread::scope` rather than a thread-pool crate: three call sites, each an ordered
//! map over a slice, need nothing more.
use std::num::NonZeroUsize;

/// Below this many items the work runs on the calling thread (threads cost more).
const MIN_PARALLEL: usize = 64;

/// How many threads share the work: the cores available, at most 8.
pub(crate) fn threads() -> usize {
    std::thread::available_parallelism()
        .map_or(1, NonZeroUsize::get)
        .min(8)
}

/// `f` over `items` in order, split over the cores.
pub(crate) fn map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    map_with(items, || (), |_, t| f(t))
}

/// `f` over `items` in order, the items split into one contiguous run per thread; each
/// thread starts from its own `init()` state (scratch buffers).
pub(crate) fn map_with<T, S, R>(
    items: &[T],
    init: impl Fn() -> S + Sync,
    f: impl Fn(&mut S, &T) -> R + Sync,
) -> Vec<R>
where
    T: Sync,
    R: Send,
{
    let threads = threads();
    if threads < 2 || items.len() < MIN_PARALLEL {
        let mut state = init();
        return items.iter().map(|t| f(&mut state, t)).collect();
    }
    let chunk = items.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let handles: Vec<_> = items
            .chunks(chunk)
            .map(|part| {
                let (init, f) = (&init, &f);
                scope.spawn(move || {
                    let mut state = init();
                    part.iter().map(|t| f(&mut state, t)).collect::<Vec<R>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| match h.join() {
                Ok(part) => part,
                // A panic in a worker is a bug: raised again on the caller's thread.
                Err(panic) => std::panic::resume_unwind(panic),
            })
            .collect()
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn results_come_back_in_the_order_of_the_items() {
        let items: Vec<u32> = (0..1000).collect();
        let out = super::map_with(
            &items,
            || 0u32,
            |calls, x| {
                *calls += 1;
                x * 2
            },
        );
        assert_eq!(out, items.iter().map(|x| x * 2).collect::<Vec<_>>());
    }
}
