//! The lock tree, built from flat `(pid, pg_blocking_pids(pid))` pairs.
//!
//! Roots are sessions that block others and wait on nobody. Children are ordered by how long they
//! have waited (longest first), so a queue reads top-down in arrival order. `pg_blocking_pids`
//! may repeat a pid (parallel workers) or name several blockers: edges are deduplicated, a
//! session with several blockers is expanded under the first and marked `shown_above` elsewhere,
//! and sessions that wait on each other (a deadlock not yet broken) become a tree rooted at the
//! cycle's smallest pid, with the back edge marked `cycle`.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use super::model::TreeNode;

/// One row of `sql/watch_blocking.sql`.
#[derive(Debug, Clone, PartialEq)]
pub struct BlockingEdge {
    /// The waiting session.
    pub pid: i32,
    /// `pg_blocking_pids(pid)`, as returned (duplicates allowed).
    pub blocked_by: Vec<i32>,
    /// Seconds it has waited, to order siblings; `None` sorts last.
    pub waited_s: Option<f64>,
}

/// The blocking graph: who waits for whom, deduplicated.
#[derive(Debug, Clone, Default)]
pub struct BlockingGraph {
    /// Waiting pid → the pids it waits for (sorted, unique, never itself).
    pub blocked_by: BTreeMap<i32, Vec<i32>>,
    /// Blocking pid → the pids waiting for it, longest-waiting first.
    pub waiters: BTreeMap<i32, Vec<i32>>,
}

impl BlockingGraph {
    /// Builds the graph from flat pairs. `exclude` (lockscope's own pid) never counts as a waiter.
    pub fn new(edges: &[BlockingEdge], exclude: Option<i32>) -> BlockingGraph {
        let mut waited: HashMap<i32, f64> = HashMap::new();
        let mut blocked_by: BTreeMap<i32, BTreeSet<i32>> = BTreeMap::new();
        for edge in edges {
            if Some(edge.pid) == exclude {
                continue;
            }
            let blockers: BTreeSet<i32> =
                edge.blocked_by.iter().copied().filter(|blocker| *blocker != edge.pid).collect();
            if blockers.is_empty() {
                continue;
            }
            if let Some(seconds) = edge.waited_s {
                let entry = waited.entry(edge.pid).or_insert(seconds);
                *entry = entry.max(seconds);
            }
            blocked_by.entry(edge.pid).or_default().extend(blockers);
        }
        let mut waiters: BTreeMap<i32, Vec<i32>> = BTreeMap::new();
        for (waiter, blockers) in &blocked_by {
            for blocker in blockers {
                waiters.entry(*blocker).or_default().push(*waiter);
            }
        }
        for list in waiters.values_mut() {
            list.sort_by(|a, b| {
                let (wa, wb) = (waited.get(a), waited.get(b));
                match (wa, wb) {
                    (Some(x), Some(y)) => y.total_cmp(x).then(a.cmp(b)),
                    (Some(_), None) => std::cmp::Ordering::Less,
                    (None, Some(_)) => std::cmp::Ordering::Greater,
                    (None, None) => a.cmp(b),
                }
            });
        }
        BlockingGraph {
            blocked_by: blocked_by.into_iter().map(|(pid, set)| (pid, set.into_iter().collect())).collect(),
            waiters,
        }
    }

    /// Sessions that block others and wait on nobody.
    pub fn roots(&self) -> Vec<i32> {
        self.waiters.keys().copied().filter(|pid| !self.blocked_by.contains_key(pid)).collect()
    }

    /// How many distinct sessions wait behind `pid`, directly or transitively.
    pub fn queued_behind(&self, pid: i32) -> usize {
        let mut seen: HashSet<i32> = HashSet::new();
        let mut stack = vec![pid];
        while let Some(current) = stack.pop() {
            for waiter in self.waiters.get(&current).into_iter().flatten() {
                if *waiter != pid && seen.insert(*waiter) {
                    stack.push(*waiter);
                }
            }
        }
        seen.len()
    }

    /// The forest: real roots (most sessions behind them first), then one tree per cycle.
    pub fn tree(&self) -> Vec<TreeNode> {
        let mut expanded: HashSet<i32> = HashSet::new();
        let mut roots = self.roots();
        roots.sort_by_key(|pid| (std::cmp::Reverse(self.queued_behind(*pid)), *pid));
        let mut forest: Vec<TreeNode> =
            roots.into_iter().map(|root| self.expand(root, &mut Vec::new(), &mut expanded)).collect();
        // Whatever waits but was not reached waits (transitively) on a cycle.
        while let Some(start) = self.blocked_by.keys().copied().find(|pid| !expanded.contains(pid)) {
            let root = self.cycle_member(start);
            forest.push(self.expand(root, &mut Vec::new(), &mut expanded));
        }
        forest
    }

    /// The smallest pid of the cycle found by walking up from `start` through first blockers.
    fn cycle_member(&self, start: i32) -> i32 {
        let mut path: Vec<i32> = Vec::new();
        let mut current = start;
        loop {
            if let Some(at) = path.iter().position(|pid| *pid == current) {
                return *path[at..].iter().min().unwrap_or(&current);
            }
            path.push(current);
            match self.blocked_by.get(&current).and_then(|list| list.first()) {
                Some(next) => current = *next,
                // Not a cycle after all (cannot happen for unreached waiters); root it here.
                None => return current,
            }
        }
    }

    fn expand(&self, pid: i32, path: &mut Vec<i32>, expanded: &mut HashSet<i32>) -> TreeNode {
        if path.contains(&pid) {
            return TreeNode { pid, children: Vec::new(), cycle: true, shown_above: false };
        }
        if !expanded.insert(pid) {
            return TreeNode { pid, children: Vec::new(), cycle: false, shown_above: true };
        }
        path.push(pid);
        let children =
            self.waiters.get(&pid).into_iter().flatten().map(|child| self.expand(*child, path, expanded)).collect();
        path.pop();
        TreeNode { pid, children, cycle: false, shown_above: false }
    }
}

/// Every pid in the forest, depth first (for tests and rendering).
pub fn flatten(forest: &[TreeNode]) -> Vec<(usize, &TreeNode)> {
    fn walk<'a>(node: &'a TreeNode, depth: usize, out: &mut Vec<(usize, &'a TreeNode)>) {
        out.push((depth, node));
        for child in &node.children {
            walk(child, depth + 1, out);
        }
    }
    let mut out = Vec::new();
    for root in forest {
        walk(root, 0, &mut out);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn edge(pid: i32, blocked_by: &[i32], waited_s: f64) -> BlockingEdge {
        BlockingEdge { pid, blocked_by: blocked_by.to_vec(), waited_s: Some(waited_s) }
    }

    /// `pid(children…)` notation, `!` for a cycle edge, `^` for shown above.
    fn render(forest: &[TreeNode]) -> String {
        fn node(n: &TreeNode) -> String {
            let mark = if n.cycle {
                "!"
            } else if n.shown_above {
                "^"
            } else {
                ""
            };
            if n.children.is_empty() {
                format!("{}{mark}", n.pid)
            } else {
                let inner: Vec<String> = n.children.iter().map(node).collect();
                format!("{}{mark}({})", n.pid, inner.join(" "))
            }
        }
        forest.iter().map(node).collect::<Vec<_>>().join(" ")
    }

    #[test]
    fn idle_holder_then_ddl_then_readers_in_wait_order() {
        // 100 idle in transaction holds the table; 200 (ALTER) waits for it; 301–303 (SELECTs)
        // queue behind the ALTER, 301 first.
        let edges =
            vec![edge(200, &[100], 30.0), edge(303, &[200], 5.0), edge(301, &[200], 20.0), edge(302, &[200], 10.0)];
        let graph = BlockingGraph::new(&edges, None);
        assert_eq!(graph.roots(), vec![100]);
        assert_eq!(render(&graph.tree()), "100(200(301 302 303))");
        assert_eq!(graph.queued_behind(100), 4);
        assert_eq!(graph.queued_behind(200), 3);
        assert_eq!(graph.queued_behind(301), 0);
    }

    #[test]
    fn duplicate_edges_and_self_references_are_dropped() {
        // Parallel workers make pg_blocking_pids repeat the leader's pid.
        let edges = vec![edge(200, &[100, 100, 100, 200], 3.0), edge(200, &[100], 3.0)];
        let graph = BlockingGraph::new(&edges, None);
        assert_eq!(graph.blocked_by[&200], vec![100]);
        assert_eq!(render(&graph.tree()), "100(200)");
    }

    #[test]
    fn several_blockers_expand_once() {
        // An ALTER waits for two readers; a SELECT waits behind the ALTER.
        let edges = vec![edge(200, &[101, 102], 9.0), edge(300, &[200], 1.0)];
        let graph = BlockingGraph::new(&edges, None);
        assert_eq!(graph.roots(), vec![101, 102]);
        assert_eq!(render(&graph.tree()), "101(200(300)) 102(200^)");
    }

    #[test]
    fn a_cycle_becomes_one_tree_with_its_back_edge_marked() {
        // 10 waits for 20, 20 for 30, 30 for 10 (a deadlock in the making); 40 waits for 20.
        let edges = vec![edge(20, &[30], 2.0), edge(10, &[20], 3.0), edge(30, &[10], 1.0), edge(40, &[20], 0.5)];
        let graph = BlockingGraph::new(&edges, None);
        assert!(graph.roots().is_empty());
        let forest = graph.tree();
        assert_eq!(render(&forest), "10(30(20(10! 40)))");
        let pids: BTreeSet<i32> = flatten(&forest).iter().map(|(_, n)| n.pid).collect();
        assert_eq!(pids, BTreeSet::from([10, 20, 30, 40]));
        assert_eq!(graph.queued_behind(10), 3);
    }

    #[test]
    fn a_two_cycle_beside_a_normal_tree() {
        let edges = vec![edge(5, &[6], 1.0), edge(6, &[5], 2.0), edge(8, &[7], 4.0)];
        let forest = BlockingGraph::new(&edges, None).tree();
        assert_eq!(render(&forest), "7(8) 5(6(5!))");
    }

    #[test]
    fn own_pid_is_never_a_waiter_and_empty_input_is_empty() {
        let edges = vec![edge(999, &[100], 1.0)];
        assert!(BlockingGraph::new(&edges, Some(999)).tree().is_empty());
        assert!(BlockingGraph::new(&[], None).tree().is_empty());
        // A waiter whose blocker list is empty (it was just granted) is not in the tree.
        assert!(BlockingGraph::new(&[edge(5, &[], 1.0)], None).tree().is_empty());
    }

    #[test]
    fn roots_with_more_sessions_behind_them_come_first() {
        let edges = vec![edge(2, &[1], 1.0), edge(12, &[11], 1.0), edge(13, &[11], 1.0)];
        assert_eq!(render(&BlockingGraph::new(&edges, None).tree()), "11(12 13) 1(2)");
    }
}
