// ThreadSanitizer settings for the async tests, built into the test binary so that
// `ctest -R async` in an EDGEHDF5_SANITIZE=thread build needs no environment (TSAN_OPTIONS
// still overrides them).

#if defined(__SANITIZE_THREAD__)
extern "C" const char* __tsan_default_options();
extern "C" const char* __tsan_default_suppressions();

// Stop at the first race. The crash tests' children end with _exit() or SIGKILL, so a race
// reported there would otherwise change no exit status: halting makes the child die early,
// which its parent test notices.
extern "C" const char* __tsan_default_options() { return "halt_on_error=1"; }

// exception_ptr: a change that fails hands its Error to the caller's thread through a
// std::future, and whichever thread drops the last reference frees it. That reference count
// lives in libstdc++.so, which is not built with -fsanitize=thread, so TSan cannot see that it
// orders the caller's reads of the message before the writer thread's free, and reports a race
// that is not there (ArangoDB and ex-actor suppress it the same way; QLever's PR #3133
// explains it). The pattern matches only stacks through std::__exception_ptr's release.
extern "C" const char* __tsan_default_suppressions() {
  return "race:std::__exception_ptr::exception_ptr::_M_release\n";
}
#endif
