/*
 * state.h - where a project keeps its state (.agentflow/).
 *
 * The state directory is $AGENTFLOW_HOME when set; otherwise `.agentflow` at
 * the root of the git work tree that holds the script; otherwise `.agentflow`
 * in the current directory. It is created (mode 0700) on first use, not when
 * it is resolved, so commands that only read never leave one behind.
 */
#ifndef AF_STATE_H
#define AF_STATE_H

/*
 * The root of the git work tree holding `dir` (an existing directory), found
 * by walking up to the nearest `.git` entry (a directory, or a file as in
 * linked work trees and submodules). *out is NULL when there is none.
 * Caller frees *out. Returns 0 or AF_EIO when `dir` cannot be resolved.
 */
int af_state_project_root(char **out, const char *dir);

/*
 * The state directory for a workflow at `script_path` (NULL: the current
 * directory is the starting point). Caller frees *out. Does not create it.
 */
int af_state_dir(char **out, const char *script_path);

/* Create `dir` and its missing parents with mode 0700. 0 or AF_EIO. */
int af_state_ensure(const char *dir);

#endif
