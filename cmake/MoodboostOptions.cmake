# Compiler flags shared by every moodboost target, applied through an interface target.
add_library(moodboost_options INTERFACE)
add_library(moodboost::options ALIAS moodboost_options)

if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
  target_compile_options(moodboost_options INTERFACE -Wall -Wextra -Wpedantic -Wshadow
                                                     -Wnon-virtual-dtor -Wcast-align -Woverloaded-virtual)
  if(MOODBOOST_WERROR)
    target_compile_options(moodboost_options INTERFACE -Werror)
  endif()
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
    # GCC 12 gives a false -Wrestrict at -O2/-O3 on `"literal" + std::string` (GCC PR 105651),
    # and false -Wmaybe-uninitialized inside libstdc++'s <regex> under ASan; both are off there.
    target_compile_options(moodboost_options INTERFACE -Wno-restrict)
    if(MOODBOOST_SANITIZE)
      target_compile_options(moodboost_options INTERFACE -Wno-maybe-uninitialized)
    endif()
  endif()
endif()

if(MOODBOOST_SANITIZE)
  # Applied globally so that the library, apps and tests agree on the instrumented runtime.
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()
