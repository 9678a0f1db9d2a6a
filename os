error: no runs in /work/runs-pK2
hint: `qaagent run-all` records a run; pass --runs-dir DIR (or set QAAGENT_RUNS_DIR) to read runs elsewhere
