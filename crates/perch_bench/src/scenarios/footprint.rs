//! Scenario `footprint`: not written yet.

use crate::Ctx;
use crate::report::Rows;

#[derive(clap::Args, Clone)]
pub struct Args {}

pub async fn run(_ctx: &Ctx, _args: &Args, _rows: &mut Rows) -> anyhow::Result<()> {
    anyhow::bail!("the footprint scenario is not written yet")
}
