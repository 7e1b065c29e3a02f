// CPU time spent by the processes that serve a request: the load generator shares these two
// cores with whatever else runs, so throughput moves with the machine's load while the CPU the
// servers burn per request stays put. Read from /proc (Linux), per process group.
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";

const ticksPerSecond = (() => {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** utime + stime of every process in the groups, in milliseconds; undefined without /proc. */
export const groupCpuMs = (groups) => {
  let ticks = 0;
  let entries;
  try {
    entries = readdirSync("/proc").filter((name) => /^\d+$/.test(name));
  } catch {
    return undefined;
  }
  for (const pid of entries) {
    let stat;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    } catch {
      continue; // ended between the listing and the read
    }
    // The command name may hold spaces and parentheses: fields are counted from the last ")".
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (groups.includes(Number(fields[2]))) ticks += Number(fields[11]) + Number(fields[12]);
  }
  return (ticks * 1000) / ticksPerSecond;
};
