//! The editor's picks in one reader's digest, decided the same way for planning and for a
//! test send (`send --to … --as READER`): pinned papers the reader has not had take the
//! first `max_papers` slots; the reader's own picks fill the rest.
use std::collections::HashSet;

use crate::domain::{PaperId, Period, PickRef, Picked};
use crate::store::Store;

/// An edition's note and its pinned papers that are in the store (a pin of a paper no
/// source has fetched yet waits for it), in pin order.
pub(crate) fn edition_pins(
    store: &Store,
    period: &Period,
) -> anyhow::Result<(Option<String>, Vec<PickRef>)> {
    let editorial = store.editorial(&period.key())?;
    let ids: Vec<PaperId> = editorial.pins.iter().map(|p| p.paper_id.clone()).collect();
    let stored = store.papers_by_id(&ids)?;
    let pins = editorial
        .pins
        .into_iter()
        .filter(|p| stored.contains_key(&p.paper_id))
        .map(|p| PickRef::pinned(p.paper_id, p.note))
        .collect();
    Ok((editorial.note, pins))
}

/// The pins this reader gets (those not in `already_sent`, at most `max_papers`), taken
/// out of `picks` and `more_like` (a paper is shown once), with `picks` cut so that pins
/// and picks together fit in `max_papers`.
pub(crate) fn make_room<'a, P: Picked>(
    pins: &'a [PickRef],
    already_sent: &HashSet<PaperId>,
    picks: &mut Vec<P>,
    more_like: &mut Vec<P>,
    max_papers: usize,
) -> Vec<&'a PickRef> {
    let pinned: Vec<&PickRef> = pins
        .iter()
        .filter(|p| !already_sent.contains(&p.id))
        .take(max_papers)
        .collect();
    let is_pinned = |p: &P| {
        p.paper_id()
            .is_some_and(|id| pinned.iter().any(|pin| &pin.id == id))
    };
    picks.retain(|p| !is_pinned(p));
    more_like.retain(|p| !is_pinned(p));
    picks.truncate(max_papers - pinned.len());
    pinned
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Paper, Pick};

    fn pick(id: &str) -> Pick {
        Pick {
            paper: Paper {
                id: PaperId::parse_arxiv(id).map(|(id, _)| id),
                ..Paper::default()
            },
            reasons: vec![],
        }
    }

    fn ids(picks: &[Pick]) -> Vec<&str> {
        picks
            .iter()
            .map(|p| p.paper.id.as_ref().unwrap().as_str())
            .collect()
    }

    #[test]
    fn pins_take_the_first_slots_once_and_skip_what_the_reader_had() {
        let pin = |id: &str| PickRef::pinned(PaperId::parse_arxiv(id).unwrap().0, None);
        let pins = [pin("2410.00001"), pin("2410.00002"), pin("2410.00003")];
        let had: HashSet<PaperId> = [PaperId::parse_arxiv("2410.00002").unwrap().0].into();
        let mut picks = vec![pick("2410.00003"), pick("2410.00010"), pick("2410.00011")];
        let mut more = vec![pick("2410.00001"), pick("2410.00012")];

        let pinned = make_room(&pins, &had, &mut picks, &mut more, 3);

        let pinned: Vec<&str> = pinned.iter().map(|p| p.id.as_str()).collect();
        assert_eq!(pinned, ["2410.00001", "2410.00003"], "not the one she had");
        assert_eq!(
            ids(&picks),
            ["2410.00010"],
            "3 slots: two pins and one pick"
        );
        assert_eq!(
            ids(&more),
            ["2410.00012"],
            "a pinned paper is not shown twice"
        );

        // More pins than slots: only the first `max_papers` pins, no own picks.
        let mut picks = vec![pick("2410.00010")];
        let pinned = make_room(&pins, &HashSet::new(), &mut picks, &mut Vec::new(), 2);
        assert_eq!(pinned.len(), 2);
        assert!(picks.is_empty());
    }
}
