//! Finds the aggregates and window calls of a SELECT's expressions (not
//! those of its subqueries, which are planned on their own).

use std::ops::ControlFlow;

use sqlparser::ast::{Expr as E, Function, Query, Visit, Visitor};

use super::expr::{is_aggregate_call, key};

#[derive(Default)]
pub(crate) struct Found {
    /// Aggregate calls outside any other aggregate, deduplicated by their text.
    pub aggregates: Vec<Function>,
    /// Window calls (`f(...) OVER (...)`), deduplicated.
    pub windows: Vec<Function>,
}

#[derive(Default)]
struct Finder {
    found: Found,
    depth: usize,
    in_aggregate: usize,
    in_window: usize,
}

impl Visitor for Finder {
    type Break = ();

    fn pre_visit_query(&mut self, _: &Query) -> ControlFlow<()> {
        self.depth += 1;
        ControlFlow::Continue(())
    }

    fn post_visit_query(&mut self, _: &Query) -> ControlFlow<()> {
        self.depth -= 1;
        ControlFlow::Continue(())
    }

    fn pre_visit_expr(&mut self, e: &E) -> ControlFlow<()> {
        if self.depth > 0 {
            return ControlFlow::Continue(());
        }
        if let E::Function(f) = e {
            if f.over.is_some() {
                if self.in_window == 0 && self.in_aggregate == 0 && !self.found.windows.iter().any(|w| same(w, f)) {
                    self.found.windows.push(f.clone());
                }
                self.in_window += 1;
            } else if is_aggregate_call(f) {
                if self.in_aggregate == 0 && !self.found.aggregates.iter().any(|a| same(a, f)) {
                    self.found.aggregates.push(f.clone());
                }
                self.in_aggregate += 1;
            }
        }
        ControlFlow::Continue(())
    }

    fn post_visit_expr(&mut self, e: &E) -> ControlFlow<()> {
        if self.depth > 0 {
            return ControlFlow::Continue(());
        }
        if let E::Function(f) = e {
            if f.over.is_some() {
                self.in_window -= 1;
            } else if is_aggregate_call(f) {
                self.in_aggregate -= 1;
            }
        }
        ControlFlow::Continue(())
    }
}

fn same(a: &Function, b: &Function) -> bool {
    key(&E::Function(a.clone())) == key(&E::Function(b.clone()))
}

pub(crate) fn find(exprs: &[&E]) -> Found {
    let mut finder = Finder::default();
    for e in exprs {
        let _ = e.visit(&mut finder);
    }
    finder.found
}

/// Whether an expression holds an aggregate (outside subqueries).
pub(crate) fn has_aggregate(e: &E) -> bool {
    !find(&[e]).aggregates.is_empty()
}
