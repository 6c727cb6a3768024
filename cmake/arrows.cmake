# The arrows between the modules, held by the build.
#
# Every module folder builds one static library named after it. Its headers
# are included from the source root ("core/jobs.h"), and so are every other
# module's, and curl.h, zlib.h, microhttpd.h and ini.h sit in the
# compiler's default path: a missing link alone would let a module include
# what it does not link. So each module also gets, first on its include
# path, a folder of poison headers (<build>/forbidden/<module>/): one for
# every header of a library or module it must not use, each an #error
# naming the module and the library. The headers a module may use are those
# of what it links, and nothing else: one list, given to gptimgfs_module(),
# says both.

# The headers of the third-party libraries a module may be denied.
set(gptimgfs_headers_curl curl/curl.h curl/easy.h curl/multi.h
  curl/urlapi.h curl/header.h curl/options.h curl/websockets.h)
set(gptimgfs_headers_fuse3 fuse.h fuse_lowlevel.h fuse_opt.h fuse_common.h
  fuse_log.h fuse3/fuse.h fuse3/fuse_lowlevel.h fuse3/fuse_opt.h
  fuse3/fuse_common.h fuse3/fuse_log.h)
set(gptimgfs_headers_microhttpd microhttpd.h)
set(gptimgfs_headers_zlib zlib.h)
set(gptimgfs_headers_inih ini.h)
set(gptimgfs_headers_crypto openssl/evp.h openssl/hmac.h openssl/crypto.h
  openssl/core_names.h openssl/sha.h)
set(gptimgfs_libraries curl fuse3 microhttpd zlib inih crypto)
set(gptimgfs_modules util core config net fs sim)

set(gptimgfs_target_curl PkgConfig::CURL)
set(gptimgfs_target_fuse3 PkgConfig::FUSE3)
set(gptimgfs_target_microhttpd PkgConfig::MHD)
set(gptimgfs_target_zlib PkgConfig::ZLIB)
set(gptimgfs_target_inih PkgConfig::INIH)
set(gptimgfs_target_crypto PkgConfig::CRYPTO)

# gptimgfs_module(NAME SOURCES src... [PUBLIC dep...] [PRIVATE dep...])
# The static library of folder NAME/, linked with target_link_libraries()
# to each dep: a module, a library of gptimgfs_libraries (curl stands for
# PkgConfig::CURL), or a plain link item (Threads::Threads, m). Its sources
# may include the headers of the modules and libraries it links, and of
# what their headers include (a module's PUBLIC deps); every other module
# or library header is poisoned.
function(gptimgfs_module name)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "" "SOURCES;PUBLIC;PRIVATE")
  add_library(${name} STATIC ${arg_SOURCES})
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR})
  set(uses)		# what NAME's sources may include
  set(reach ${name})	# what NAME's headers bring to its users
  foreach(scope PUBLIC PRIVATE)
    foreach(dep ${arg_${scope}})
      set(item ${dep})
      if(dep IN_LIST gptimgfs_modules)
        get_target_property(dep_reach ${dep} GPTIMGFS_REACH)
        list(APPEND uses ${dep_reach})
      elseif(dep IN_LIST gptimgfs_libraries)
        set(item ${gptimgfs_target_${dep}})
        set(dep_reach ${dep})
        list(APPEND uses ${dep})
      else()
        set(dep_reach)
      endif()
      if(scope STREQUAL PUBLIC)
        list(APPEND reach ${dep_reach})
      endif()
      target_link_libraries(${name} ${scope} ${item})
    endforeach()
  endforeach()
  list(REMOVE_DUPLICATES uses)
  list(REMOVE_DUPLICATES reach)
  set_target_properties(${name} PROPERTIES GPTIMGFS_REACH "${reach}")

  set(dir ${PROJECT_BINARY_DIR}/forbidden/${name})
  # afresh at each configure: what a module may use can change
  file(REMOVE_RECURSE ${dir})
  set(headers)
  foreach(lib ${gptimgfs_libraries})
    if(NOT lib IN_LIST uses)
      foreach(h ${gptimgfs_headers_${lib}})
        list(APPEND headers "${h}|the library ${lib}")
      endforeach()
    endif()
  endforeach()
  foreach(mod ${gptimgfs_modules})
    if(NOT mod STREQUAL name AND NOT mod IN_LIST uses)
      file(GLOB mod_headers CONFIGURE_DEPENDS RELATIVE ${PROJECT_SOURCE_DIR}
        ${PROJECT_SOURCE_DIR}/${mod}/*.h)
      foreach(h ${mod_headers})
        list(APPEND headers "${h}|the module ${mod}")
      endforeach()
    endif()
  endforeach()
  foreach(entry ${headers})
    string(REPLACE "|" ";" entry "${entry}")
    list(GET entry 0 h)
    list(GET entry 1 what)
    file(WRITE ${dir}/${h}
      "#error \"${name}/ must not use ${what} (${h}): see cmake/arrows.cmake\"\n")
  endforeach()
  target_include_directories(${name} BEFORE PRIVATE ${dir})
endfunction()
