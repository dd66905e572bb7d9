//! A platforms matrix: a Molecule scenario run once per value of the
//! variables its `molecule.yml` reads (`--matrix MOLECULE_DISTRO=debian12,
//! rockylinux9`), as CI matrices run `molecule test` once per distribution.
//! Each combination is read as if the variables were set so, and its run
//! is named after it (a JUnit suite each).

use std::str::FromStr;

/// `VAR=A,B,...`: one variable and the values it takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatrixAxis {
    pub var: String,
    pub values: Vec<String>,
}

impl FromStr for MatrixAxis {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let problem = |why: &str| {
            format!("{text:?}: {why}; expected VAR=A,B,... (MOLECULE_DISTRO=debian12,rockylinux9)")
        };
        let (var, values) = text.split_once('=').ok_or_else(|| problem("no `=`"))?;
        let var = var.trim();
        let valid_name = var
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && var.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid_name {
            return Err(problem("the variable's name is letters, digits and `_`"));
        }
        let mut list: Vec<String> = Vec::new();
        for value in values.split(',').map(str::trim) {
            if value.is_empty() {
                return Err(problem("an empty value"));
            }
            if !list.iter().any(|v| v == value) {
                list.push(value.to_owned());
            }
        }
        Ok(Self {
            var: var.to_owned(),
            values: list,
        })
    }
}

/// Every combination of the axes' values, in order (the first axis
/// slowest); one empty combination when there are no axes. An axis named
/// twice is an error.
pub fn combinations(axes: &[MatrixAxis]) -> Result<Vec<Vec<(String, String)>>, String> {
    for (index, axis) in axes.iter().enumerate() {
        if axes[..index].iter().any(|a| a.var == axis.var) {
            return Err(format!(
                "--matrix names {} twice: give its values once, comma-separated",
                axis.var
            ));
        }
    }
    let mut all: Vec<Vec<(String, String)>> = vec![Vec::new()];
    for axis in axes {
        all = all
            .into_iter()
            .flat_map(|done| {
                axis.values.iter().map(move |value| {
                    let mut next = done.clone();
                    next.push((axis.var.clone(), value.clone()));
                    next
                })
            })
            .collect();
    }
    Ok(all)
}

/// A run's name with its combination: `default[MOLECULE_DISTRO=rockylinux9]`.
pub fn name_with(name: &str, combination: &[(String, String)]) -> String {
    if combination.is_empty() {
        return name.to_owned();
    }
    let vars: Vec<String> = combination
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    format!("{name}[{}]", vars.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_axis_reads_var_equals_values_and_refuses_what_is_not() {
        let axis: MatrixAxis = "MOLECULE_DISTRO=debian12, rockylinux9,debian12"
            .parse()
            .unwrap();
        assert_eq!(axis.var, "MOLECULE_DISTRO");
        assert_eq!(axis.values, ["debian12", "rockylinux9"]);
        for bad in ["MOLECULE_DISTRO", "=a,b", "9X=a", "X=a,,b", "X="] {
            let error = bad.parse::<MatrixAxis>().unwrap_err();
            assert!(error.contains("VAR=A,B"), "{bad}: {error}");
        }
    }

    #[test]
    fn every_combination_runs_once_and_is_named_after_its_values() {
        let axes: Vec<MatrixAxis> = ["D=a,b", "P=x,y,z"]
            .iter()
            .map(|a| a.parse().unwrap())
            .collect();
        let all = combinations(&axes).unwrap();
        assert_eq!(all.len(), 6);
        assert_eq!(name_with("default", &all[0]), "default[D=a,P=x]");
        assert_eq!(name_with("default", &all[5]), "default[D=b,P=z]");
        assert_eq!(combinations(&[]).unwrap(), [Vec::<(String, String)>::new()]);
        assert_eq!(name_with("default", &[]), "default");
        let twice: Vec<MatrixAxis> = ["D=a", "D=b"].iter().map(|a| a.parse().unwrap()).collect();
        assert!(combinations(&twice).unwrap_err().contains("names D twice"));
    }
}
