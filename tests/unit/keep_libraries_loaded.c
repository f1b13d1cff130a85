/* Sanitizer builds only, preloaded (LD_PRELOAD) into the tests that use Vulkan.
 *
 * LeakSanitizer looks for leaks at process exit, after the Vulkan loader has
 * dlclose()d the driver (Mesa lavapipe). Memory the driver keeps referenced from
 * its own globals then looks leaked, with frames LSan cannot name
 * ("<unknown module>"), so no suppression can target it narrowly. Making dlclose
 * a no-op keeps every library mapped until exit: the driver's memory stays
 * reachable, while a real leak anywhere is still reported, now with symbols. */
int dlclose(void* handle) {
  (void)handle;
  return 0;
}
