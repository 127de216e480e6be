# Compiler flags shared by every moodboost target, applied through an interface target.
add_library(moodboost_options INTERFACE)
add_library(moodboost::options ALIAS moodboost_options)

if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
  target_compile_options(moodboost_options INTERFACE -Wall -Wextra -Wpedantic -Wshadow
                                                     -Wnon-virtual-dtor -Wcast-align -Woverloaded-virtual)
  if(MOODBOOST_WERROR)
    target_compile_options(moodboost_options INTERFACE -Werror)
  endif()
endif()

if(MOODBOOST_SANITIZE)
  # Applied globally so that the library, apps and tests agree on the instrumented runtime.
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()
